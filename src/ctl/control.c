/* control: peercdnctl's side of the control socket. One request per run:
 * connect, send the line (and for push the file's bytes), read the answer
 * up to its empty line, print its lines: to stdout when it is "ok", to
 * stderr after the reason when it is "error". */
#include "ctl/control.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/io.h"
#include "lib/base/buf.h"
#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/proto/control.h"
#include "lib/proto/control_settings.h"

enum { ANSWER_TIMEOUT_MS = 60000 }; /* a push waits for a reload */

static const char *const commands[] = {"status",  "servers", "load",   "drain",
                                       "undrain", "push",    "reload", NULL};

int control_is_command(const char *cmd)
{
	for (unsigned i = 0; commands[i] != NULL; i++)
		if (strcmp(cmd, commands[i]) == 0)
			return 1;
	return 0;
}

static void usage(FILE *out)
{
	fputs("usage: peercdnctl [-S SOCKET] status|servers|reload\n"
	      "       peercdnctl [-S SOCKET] load SERVER N\n"
	      "       peercdnctl [-S SOCKET] drain|undrain SERVER\n"
	      "       peercdnctl [-S SOCKET] push FILE   (- reads the config from stdin)\n"
	      "-S SOCKET: the daemon's control socket (default " PC_CONTROL_SOCKET_DEFAULT ")\n",
	      out);
}

/* Connected to path, or -1 after saying why. */
static int dial(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "peercdnctl: %s: socket path too long\n", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "peercdnctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	int err = errno;
	close(fd);
	if (err == ENOENT)
		fprintf(stderr,
		        "peercdnctl: no control socket at %s: is peercdnd running? (its socket: "
		        "control.socket or peercdnd -S; here: -S SOCKET)\n",
		        path);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "peercdnctl: nothing answers on %s: peercdnd is not running\n",
		        path);
	else if (err == EACCES)
		fprintf(stderr,
		        "peercdnctl: %s: permission denied (the socket is mode 0660: run as its "
		        "owner or in its group)\n",
		        path);
	else
		fprintf(stderr, "peercdnctl: %s: %s\n", path, strerror(err));
	return -1;
}

/* The answer up to its empty line into answer; false when the daemon
 * goes away or stays silent first. */
static bool read_answer(int fd, struct pc_buf *answer)
{
	char chunk[4096];
	for (;;) {
		const char *end =
		    answer->len >= 2 ? memmem(answer->data, answer->len, "\n\n", 2) : NULL;
		if (end != NULL) {
			answer->len = (size_t)(end - answer->data) + 1; /* keep the last LF */
			return true;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ready = poll(&p, 1, ANSWER_TIMEOUT_MS);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return false;
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || !pc_buf_append(answer, chunk, (size_t)n))
			return false;
	}
}

/* Sends line and body, prints the answer; returns the exit status. */
static int exchange(const char *path, const char *line, const char *body, size_t body_len)
{
	int fd = dial(path);
	if (fd < 0)
		return CONTROL_EXIT_UNREACHABLE;
	struct pc_buf answer = {0};
	int status = CONTROL_EXIT_UNREACHABLE;
	if (!ctl_send_all(fd, line, strlen(line)) ||
	    (body_len > 0 && !ctl_send_all(fd, body, body_len)) || !read_answer(fd, &answer)) {
		fprintf(stderr, "peercdnctl: %s: the daemon did not answer\n", path);
		goto out;
	}
	const char *lf = memchr(answer.data, '\n', answer.len);
	size_t head_len = (size_t)(lf - answer.data);
	const char *rest = lf + 1;
	size_t rest_len = answer.len - head_len - 1;
	if (head_len == 2 && memcmp(answer.data, "ok", 2) == 0) {
		fwrite(rest, 1, rest_len, stdout);
		status = CONTROL_EXIT_OK;
	} else if (head_len > 6 && memcmp(answer.data, "error ", 6) == 0) {
		fprintf(stderr, "peercdnctl: %.*s\n", (int)(head_len - 6), answer.data + 6);
		fwrite(rest, 1, rest_len, stderr);
		status = CONTROL_EXIT_REFUSED;
	} else {
		fprintf(stderr, "peercdnctl: %s: not a control answer: \"%.*s\"\n", path,
		        (int)(head_len > 80 ? 80 : head_len), answer.data);
	}
out:
	pc_buf_free(&answer);
	close(fd);
	return status;
}

/* stdin whole, for push -. */
static int read_stdin(char **out, size_t *len)
{
	struct pc_buf in = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (!pc_buf_append(&in, chunk, n)) {
			pc_buf_free(&in);
			return PC_ENOMEM;
		}
	if (ferror(stdin)) {
		pc_buf_free(&in);
		return -EIO;
	}
	*out = in.data;
	*len = in.len;
	return 0;
}

static int push(const char *path, const char *file)
{
	char *text = NULL;
	size_t len = 0;
	int rc = strcmp(file, "-") == 0 ? read_stdin(&text, &len) : pc_file_read(file, &text, &len);
	if (rc != 0) {
		fprintf(stderr, "peercdnctl: %s: %s\n", file, pc_strerror(rc));
		return CONTROL_EXIT_USAGE;
	}
	int status;
	if (len > PC_CONTROL_PUSH_MAX) {
		fprintf(stderr, "peercdnctl: %s: %zu bytes, more than a push takes (%d)\n", file,
		        len, PC_CONTROL_PUSH_MAX);
		status = CONTROL_EXIT_USAGE;
	} else {
		char line[64];
		snprintf(line, sizeof(line), "push %zu\n", len);
		status = exchange(path, line, text, len);
	}
	free(text);
	return status;
}

int control_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = PC_CONTROL_SOCKET_DEFAULT;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+S:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CONTROL_EXIT_OK;
		default:
			usage(stderr);
			return CONTROL_EXIT_USAGE;
		}
	}
	const char *cmd = argv[0];
	char **args = argv + optind;
	int n = argc - optind;
	if (strcmp(cmd, "push") == 0) {
		if (n != 1) {
			usage(stderr);
			return CONTROL_EXIT_USAGE;
		}
		return push(path, args[0]);
	}
	/* The line as the daemon parses it: checked here first, so a typo is
	 * a usage error without a round trip. */
	char line[PC_CONTROL_LINE_MAX];
	size_t used = (size_t)snprintf(line, sizeof(line), "%s", cmd);
	for (int i = 0; i < n && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %s", args[i]);
	struct pc_control_request req;
	const char *why = NULL;
	if (used >= sizeof(line) - 1 || pc_control_parse(line, used, &req, &why) != PC_OK) {
		fprintf(stderr, "peercdnctl: %s\n", why != NULL ? why : "line too long");
		usage(stderr);
		return CONTROL_EXIT_USAGE;
	}
	line[used] = '\n';
	line[used + 1] = '\0';
	return exchange(path, line, NULL, 0);
}
