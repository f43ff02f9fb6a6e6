/* control: the peercdnctl commands that talk to a running peercdnd over its
 * control socket (docs/control.md): status, servers, load, drain, undrain,
 * push, reload. */
#ifndef PC_CTL_CONTROL_H
#define PC_CTL_CONTROL_H

/* Exit statuses of these commands. */
enum {
	CONTROL_EXIT_OK = 0,
	CONTROL_EXIT_REFUSED = 1, /* the daemon answered an error */
	CONTROL_EXIT_USAGE = 2,
	CONTROL_EXIT_UNREACHABLE = 3, /* no daemon answers on the socket */
};

/* Whether cmd is one of these commands. */
int control_is_command(const char *cmd);

/* The command: argv[0] is its name. Returns the exit status above. */
int control_main(int argc, char **argv);

#endif
