/* Unit tests of node/net's socket options for the answering UDP sockets:
 * an answer must not take its fragment size from an ICMP the kernel was
 * told (IP_PMTUDISC_OMIT), as gdnsd's, Knot's and BIND's do not. Loopback
 * only; every socket opened is closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/err.h"
#include "node/net.h"

/* The daemon's role table; this program runs no roles. */
const struct pcd_role *const pcd_roles[] = {NULL};

static int mtu_discover(int fd, int family)
{
	int value = -1;
	socklen_t len = sizeof(value);
	int rc =
	    getsockopt(fd, family == PC_AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	               family == PC_AF_INET ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER, &value, &len);
	assert_int_equal(rc, 0);
	return value;
}

/* A socket bound by pcd_net_bind keeps the kernel's path-MTU discovery
 * (the overlay and ICP sockets want it); pcd_net_omit_pmtu turns it off. */
static void check_family(const char *text, int family, int omit)
{
	pc_addr addr;
	assert_int_equal(pc_addr_parse(text, &addr), PC_OK);
	int fd = pcd_net_bind(SOCK_DGRAM, &addr, 0);
	if (family == PC_AF_INET6 && (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT))
		skip(); /* no IPv6 loopback on this machine */
	assert_true(fd >= 0);
	assert_int_not_equal(mtu_discover(fd, family), omit);
	assert_int_equal(pcd_net_omit_pmtu(fd, family), 0);
	assert_int_equal(mtu_discover(fd, family), omit);
	close(fd);
}

static void test_omit_pmtu_ipv4(void **state)
{
	(void)state;
	check_family("127.0.0.1", PC_AF_INET, IP_PMTUDISC_OMIT);
}

static void test_omit_pmtu_ipv6(void **state)
{
	(void)state;
	check_family("::1", PC_AF_INET6, IPV6_PMTUDISC_OMIT);
}

/* A descriptor that is not a socket is refused, not ignored. */
static void test_omit_pmtu_not_a_socket(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pcd_net_omit_pmtu(fds[0], PC_AF_INET), -ENOTSOCK);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_omit_pmtu_ipv4),
	    cmocka_unit_test(test_omit_pmtu_ipv6),
	    cmocka_unit_test(test_omit_pmtu_not_a_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
