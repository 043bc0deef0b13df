/*
 * fuzz/fuzz_wire.c: libFuzzer target for the mpqemu codec and the
 * server's dispatch. The input is the byte stream a compromised QEMU
 * writes to the remote's socket (no fds: SYNC_SYSMEM and SET_IRQFD are
 * refused by the codec for want of them). It goes through a socketpair
 * into srv_run() with a real struct remote: one disk, 256 KiB of guest
 * RAM at 0 and INTx eventfds set up as after QEMU's first SYNC_SYSMEM and
 * SET_IRQFD, so BAR writes reach the register file, start SCRIPTS and DMA.
 * The stream's end is an orderly close; srv_run returns on it or on the
 * first protocol error. Test code.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

#include "fuzz/fuzz_common.h"
#include "remote/scsi_bus.h"
#include "wire/wire.h"

#define RAM_SIZE (256u << 10)
#define IMAGE_SIZE (1u << 20)
#define MAX_INPUT (64u << 10)

static struct remote the_remote;
static int ram_fd = -1, image_fd = -1;
static uint8_t *ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
once(void)
{
	if (ram_fd >= 0)
		return;
	ram_fd = fuzz_memfd("fuzz-ram", RAM_SIZE, 1);
	image_fd = fuzz_memfd("fuzz-image", IMAGE_SIZE, 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	if (ram == MAP_FAILED)
		fuzz_die("mmap");
}

/*
 * Take the replies as they come (a reader thread, as QEMU would be), so
 * a long stream of requests never fills the socket under the server.
 */
static void *
drain(void *arg)
{
	int fd = *(int *)arg;
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote *r = &the_remote;
	struct dma_region_req req;
	char why[256] = "";
	int sv[2], big = 1 << 20;
	pthread_t reader;

	if (size > MAX_INPUT)
		return 0;
	once();
	req = (struct dma_region_req){ 0, RAM_SIZE, 0, ram_fd };
	memset(ram, 0, RAM_SIZE);
	fuzz_zero_image(image_fd, IMAGE_SIZE);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_die("socketpair");
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (size && wire_send_raw(sv[0], data, size, NULL, 0, 1000) < 0)
		fuzz_die("send");
	shutdown(sv[0], SHUT_WR);
	if (pthread_create(&reader, NULL, drain, &sv[0]) != 0)
		fuzz_die("pthread_create");

	srv_init(r, sv[1]);
	if (scsi_bus_add_disk(&r->bus, image_fd, false, NULL) < 0)
		fuzz_die("disk");
	fuzz_wire_remote(r, &req, 1);
	(void)srv_run(r, why, sizeof(why));
	srv_fini(r);
	close(sv[1]); /* the reader sees the end of the replies */
	pthread_join(reader, NULL);
	close(sv[0]);
	return 0;
}
