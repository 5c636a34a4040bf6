import type { OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { type FetchLike, type Logger, Recorder, type RecorderConfig } from "./recorder.js";
export { Recorder, resolveConfig } from "./recorder.js";
export type { RecorderConfig } from "./recorder.js";
export * from "./mapping.js";
export declare const kPluginId = "clawback";
/** The slice of OpenClaw's plugin API the plugin uses; the test harness provides its own. */
export interface PluginHost {
    pluginConfig?: Record<string, unknown>;
    logger?: Logger;
    on: OpenClawPluginApi["on"];
}
/** Registers the plugin's handlers on `api`, recording through `rec`. */
export declare function registerHandlers(api: PluginHost, rec: Recorder): void;
/** The recorder for a resolved config, created once per process. */
export declare function recorderFor(config: RecorderConfig, log: Logger, fetchImpl?: FetchLike): Recorder;
declare const plugin: {
    id: string;
    name: string;
    description: string;
    register(api: OpenClawPluginApi): void;
};
export default plugin;
