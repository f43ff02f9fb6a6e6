/* prefill: `peercdnctl prefill`, which asks edges to fetch objects into
 * their stores before clients ask (docs/prefill.md). */
#ifndef PC_CTL_PREFILL_H
#define PC_CTL_PREFILL_H

/* The command: argv[0] is "prefill". Returns the exit status: 0 when every
 * edge filled or already held every URL, 1 when one did not, 2 on a usage
 * error. */
int prefill_main(int argc, char **argv);

#endif
