/*
 * fuzz/fuzz_reply.c: libFuzzer target for wire_recv_reply(), the proxy's
 * one-read decoder of a remote's replies (a remote may be compromised
 * too). Input: [0] where to split the stream (0: one write), then the
 * bytes a remote sends. With a split, a writer thread sends the first
 * part, pauses, then the rest, so the decoder's short-read paths run.
 * Every message it accepts must pass the codec's own table. Test code.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct writer {
	int fd;
	const uint8_t *p;
	size_t len, split;
};

static void *
write_stream(void *arg)
{
	const struct writer *w = arg;
	const struct timespec pause = { 0, 200000 };

	if (w->split && w->split < w->len) {
		(void)wire_send_raw(w->fd, w->p, w->split, NULL, 0, 1000);
		nanosleep(&pause, NULL);
		(void)wire_send_raw(w->fd, w->p + w->split, w->len - w->split,
		    NULL, 0, 1000);
	} else if (w->len) {
		(void)wire_send_raw(w->fd, w->p, w->len, NULL, 0, 1000);
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct writer w;
	struct wire_msg m;
	pthread_t t;
	int sv[2];

	if (size < 1 || size > 4096)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	w = (struct writer){ sv[0], data + 1, size - 1, data[0] };
	if (pthread_create(&t, NULL, write_stream, &w) != 0)
		abort();
	for (int i = 0; i < 32; i++) {
		int r = wire_recv_reply(sv[1], &m, 2000);

		if (r <= 0)
			break;
		if (m.size > WIRE_BODY_MAX || wire_validate(&m) != 0)
			abort(); /* accepted what the table refuses */
		wire_msg_close_fds(&m);
	}
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
