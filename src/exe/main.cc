// The clawback binary: the CLI and the daemon (`clawback serve`) in one.
#include <malloc.h>
#include <openssl/crypto.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // Allocations of 1 MiB and more (pack buffers, blobs, file read buffers) get their own
  // mappings and go back to the system when freed. glibc's default raises this threshold
  // to the size of the largest block freed so far (up to 32 MiB); after the first 16 MiB
  // pack buffer was freed, later ones came from per-thread arenas that kept them resident:
  // the first snapshot of the store benchmark peaked anywhere between 120 and 196 MiB from
  // run to run, check --read-data likewise. A fixed threshold keeps it at ~120 MiB.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // OpenSSL frees its global state in an atexit handler by default; a thread still hashing
  // or encrypting while the process exits (a server's worker, a repository opening in the
  // background) would then run into freed tables. The system reclaims it all at exit anyway.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  return clawback::cli::Main(argc, argv);
}
