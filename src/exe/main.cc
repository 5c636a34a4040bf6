// The clawback binary: the CLI and the daemon (`clawback serve`) in one.
#include "cli/cli.h"

int main(int argc, char** argv) { return clawback::cli::Main(argc, argv); }
