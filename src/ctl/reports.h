/* reports: `peercdnctl reports`, which reads a node's provider-report store
 * offline and sums it per provider and agreement (docs/reports.md). */
#ifndef PC_CTL_REPORTS_H
#define PC_CTL_REPORTS_H

/* The command: argv[0] is "reports". Returns the exit status: 0, 1 when
 * the store cannot be read, 2 on a usage error. */
int reports_main(int argc, char **argv);

#endif
