/* control_socket: peercdnctl's Unix socket, served one connection at a
 * time on its own thread (commands are rare and quick; a push waits for a
 * reload, which no worker should). The protocol is docs/control.md: a
 * request line, for push its bytes, then an answer: "ok" or "error
 * REASON", the command's lines, an empty line. */
#include "node/control_socket.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "lib/proto/control.h"
#include "node/control.h"
#include "node/log.h"

enum {
	IDLE_MS = 10000, /* a client silent this long is dropped */
	POLL_MS = 200,   /* how often the thread looks at stop */
};

struct pcd_control_socket {
	struct pcd_node *node;
	int fd;
	struct sockaddr_un addr;
	dev_t dev; /* of the socket file we made: removed at exit if still ours */
	ino_t ino;
	_Atomic bool stop;
	pthread_t thread;
};

/* ---- one connection ---- */

struct client {
	struct pcd_control_socket *control;
	int fd;
	char in[PC_CONTROL_LINE_MAX];
	size_t used;
};

/* Waits for input; false on stop, idle timeout or error. */
static bool wait_input(struct client *c)
{
	for (unsigned waited = 0; waited < IDLE_MS; waited += POLL_MS) {
		if (atomic_load(&c->control->stop))
			return false;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int n = poll(&p, 1, POLL_MS);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/* Reads into buf up to size bytes; returns how many (0: end or error). */
static size_t read_some(struct client *c, char *buf, size_t size)
{
	if (!wait_input(c))
		return 0;
	ssize_t n;
	do
		n = recv(c->fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 ? (size_t)n : 0;
}

static bool send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* The next request line into line (NUL-terminated, without its LF);
 * false at the end of the connection. A line longer than the buffer is
 * answered as too long and the connection ends. */
static bool next_line(struct client *c, char *line, size_t *len)
{
	for (;;) {
		char *lf = memchr(c->in, '\n', c->used);
		if (lf != NULL) {
			*len = (size_t)(lf - c->in);
			memcpy(line, c->in, *len);
			line[*len] = '\0';
			c->used -= *len + 1;
			memmove(c->in, lf + 1, c->used);
			return true;
		}
		if (c->used == sizeof(c->in)) {
			static const char too_long[] = "error line too long\n\n";
			send_all(c->fd, too_long, sizeof(too_long) - 1);
			return false;
		}
		size_t n = read_some(c, c->in + c->used, sizeof(c->in) - c->used);
		if (n == 0)
			return false;
		c->used += n;
	}
}

/* push's bytes: what came with the line, then the rest. NULL when the
 * client stops short or memory runs out. */
static char *read_body(struct client *c, size_t len)
{
	char *body = malloc(len ? len : 1);
	if (body == NULL)
		return NULL;
	size_t have = c->used < len ? c->used : len;
	memcpy(body, c->in, have);
	c->used -= have;
	memmove(c->in, c->in + have, c->used);
	while (have < len) {
		size_t n = read_some(c, body + have, len - have);
		if (n == 0) {
			free(body);
			return NULL;
		}
		have += n;
	}
	return body;
}

static const char *reason(int rc)
{
	switch (rc) {
	case PC_ENOENT:
		return "no such server";
	case PC_ECONFIG:
		return "config rejected: the previous config keeps serving";
	default:
		return pc_strerror(rc);
	}
}

/* Runs one parsed request; its lines go to out. */
static int run(struct client *c, const struct pc_control_request *req, const char *body, FILE *out)
{
	struct pcd_node *node = c->control->node;
	char server[256] = "";
	if (req->server != NULL)
		snprintf(server, sizeof(server), "%.*s", (int)req->server_len, req->server);
	switch (req->command) {
	case PC_CONTROL_STATUS:
		return pcd_control_status(node, out);
	case PC_CONTROL_SERVERS:
		return pcd_control_servers(node, out);
	case PC_CONTROL_LOAD:
		return pcd_control_load(node, server, req->load, out);
	case PC_CONTROL_DRAIN:
	case PC_CONTROL_UNDRAIN:
		return pcd_control_drain(node, server, req->command == PC_CONTROL_DRAIN, out);
	case PC_CONTROL_PUSH:
		return pcd_control_push(node, body, req->push_len, out);
	case PC_CONTROL_RELOAD:
		return pcd_control_reload(node, out);
	}
	return PC_EINVAL;
}

/* One answer: the status line, the command's lines, an empty line. */
static bool answer(struct client *c, int rc, const char *why, const char *lines, size_t len)
{
	char head[256];
	if (rc == 0)
		snprintf(head, sizeof(head), "ok\n");
	else
		snprintf(head, sizeof(head), "error %s\n", why != NULL ? why : reason(rc));
	return send_all(c->fd, head, strlen(head)) && send_all(c->fd, lines, len) &&
	       send_all(c->fd, "\n", 1);
}

static void serve(struct pcd_control_socket *control, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->control = control;
	c->fd = fd;
	char line[PC_CONTROL_LINE_MAX];
	size_t len;
	while (next_line(c, line, &len)) {
		struct pc_control_request req;
		const char *why = NULL;
		int rc = pc_control_parse(line, len, &req, &why);
		if (rc != PC_OK) {
			if (!answer(c, rc, why, "", 0))
				break;
			continue;
		}
		char *body = NULL;
		if (req.command == PC_CONTROL_PUSH && (body = read_body(c, req.push_len)) == NULL)
			break;
		char *lines = NULL;
		size_t lines_len = 0;
		FILE *out = open_memstream(&lines, &lines_len);
		if (out == NULL) {
			free(body);
			break;
		}
		rc = run(c, &req, body, out);
		fclose(out);
		free(body);
		pcd_log(rc == 0 ? PCD_LOG_INFO : PCD_LOG_WARNING, "control-command",
		        "command=%s result=\"%s\"", pc_control_command_name(req.command),
		        rc == 0 ? "ok" : reason(rc));
		bool sent = answer(c, rc, NULL, lines, lines_len);
		free(lines);
		if (!sent)
			break;
	}
	free(c);
}

static void *control_main(void *arg)
{
	struct pcd_control_socket *control = arg;
	while (!atomic_load(&control->stop)) {
		struct pollfd p = {.fd = control->fd, .events = POLLIN};
		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		int fd = accept4(control->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(control, fd);
		close(fd);
	}
	return NULL;
}

/* ---- the socket file ---- */

/* A socket file at addr that nobody answers on is a crashed daemon's:
 * removed. One that answers, or a file that is not a socket, stays. */
static int clear_stale(const struct sockaddr_un *addr)
{
	struct stat st;
	if (lstat(addr->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	int rc = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	int err = errno;
	close(probe);
	if (rc == 0)
		return -EADDRINUSE;
	if (err != ECONNREFUSED)
		return -err;
	return unlink(addr->sun_path) == 0 || errno == ENOENT ? 0 : -errno;
}

static int open_socket(struct pcd_control_socket *control)
{
	int rc = clear_stale(&control->addr);
	if (rc != 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The umask keeps the file from being wider than 0660 between bind
	 * and chmod; no other thread creates files while the node starts. */
	mode_t old_mask = umask(0117);
	rc = bind(fd, (const struct sockaddr *)&control->addr, sizeof(control->addr));
	int err = errno;
	umask(old_mask);
	struct stat st;
	if (rc != 0 || chmod(control->addr.sun_path, 0660) != 0 ||
	    stat(control->addr.sun_path, &st) != 0 || listen(fd, 16) != 0) {
		err = rc != 0 ? err : errno;
		if (rc == 0)
			unlink(control->addr.sun_path);
		close(fd);
		return -err;
	}
	control->dev = st.st_dev;
	control->ino = st.st_ino;
	control->fd = fd;
	return 0;
}

int pcd_control_socket_start(struct pcd_node *node, const char *path,
                             struct pcd_control_socket **out)
{
	const struct pc_control_params *params = node->generation->control;
	bool asked = path != NULL || !params->socket_default;
	if (path == NULL)
		path = params->socket_path;
	*out = NULL;
	if (*path == '\0')
		return 0;
	struct pcd_control_socket *control = calloc(1, sizeof(*control));
	if (control == NULL)
		return -ENOMEM;
	control->node = node;
	control->fd = -1;
	control->addr.sun_family = AF_UNIX;
	int rc = strlen(path) < sizeof(control->addr.sun_path) ? 0 : -ENAMETOOLONG;
	if (rc == 0) {
		memcpy(control->addr.sun_path, path, strlen(path) + 1);
		rc = open_socket(control);
	}
	if (rc == 0 && pthread_create(&control->thread, NULL, control_main, control) != 0) {
		rc = -EAGAIN;
		close(control->fd);
		unlink(path);
	}
	if (rc != 0) {
		char quoted[600];
		pcd_log(asked ? PCD_LOG_ERROR : PCD_LOG_WARNING,
		        asked ? "control-socket-failed" : "control-socket-unavailable",
		        "path=%s error=\"%s\"%s", pcd_log_quote(path, quoted, sizeof(quoted)),
		        rc == -EADDRINUSE ? "another daemon answers on it"
		        : rc == -EEXIST   ? "a file that is not a socket is there"
		                          : strerror(-rc),
		        asked ? "" : " hint=\"peercdnctl needs -S or control.socket\"");
		free(control);
		return asked ? rc : 0;
	}
	char quoted[600];
	pcd_log(PCD_LOG_INFO, "control-listening", "path=%s mode=0660",
	        pcd_log_quote(path, quoted, sizeof(quoted)));
	*out = control;
	return 0;
}

void pcd_control_socket_stop(struct pcd_control_socket *control)
{
	if (control == NULL)
		return;
	atomic_store(&control->stop, true);
	pthread_join(control->thread, NULL);
	close(control->fd);
	struct stat st;
	if (stat(control->addr.sun_path, &st) == 0 && st.st_dev == control->dev &&
	    st.st_ino == control->ino)
		unlink(control->addr.sun_path);
	free(control);
}
