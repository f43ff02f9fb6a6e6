/* See io.h. */
#include "ctl/io.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

bool ctl_send_all(int fd, const char *data, size_t len)
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
