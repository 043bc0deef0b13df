/*
 * tests/install/hello-mpjail.c: the tiny program a packager builds against
 * the installed library (pkg-config mpjail-proxy): it starts the installed
 * mpjail-lsi on a socketpair, reads the device's IDs through
 * libmpjail-proxy, and checks that mpjail-lsi exits 0 when it hangs up.
 */
#include <mpjail-proxy.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct proxy_dev *dev;
	uint32_t id = 0;
	int sv[2], status, err;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: hello-mpjail PATH-TO-MPJAIL-LSI\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		if (dup2(sv[1], 3) < 0)
			_exit(126);
		execl(argv[1], "mpjail-lsi", "--socket-fd", "3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	err = proxy_attach(&dev, sv[0], 5000);
	if (!err)
		err = proxy_config_read(dev, 0, 4, &id);
	if (err) {
		fprintf(stderr, "hello-mpjail: %s\n", strerror(-err));
		return 1;
	}
	proxy_detach(dev);
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "hello-mpjail: mpjail-lsi status 0x%x\n", status);
		return 1;
	}
	printf("%04x:%04x\n", id & 0xffff, id >> 16);
	return id == 0x00121000 ? 0 : 1;
}
