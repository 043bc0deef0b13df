/*
 * broker/vm.h: the VM description (mpjail.vm(5)): what one mpjail-broker
 * runs. Parsed by broker/vm.c from an admin-owned file, strictly: every
 * error is kept with file:line:column, unknown keys and sections are
 * errors. Trusted in intent, parsed as if hostile (bounded, no recursion).
 *
 * Contract: functions return 0 or a negative errno and never exit. A
 * struct brk_vm is plain data (no fds, no allocation); paths in it are
 * absolute or already joined to the VM file's directory.
 */
#ifndef MPJAIL_BROKER_VM_H
#define MPJAIL_BROKER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define BRK_VM_FORMAT_VERSION 1
#define BRK_NAME_MAX 32		/* VM and remote names, with NUL */
#define BRK_PATH_MAX 256	/* == SBX_PATH_MAX: paths go to bubblewrap */
#define BRK_APPEND_MAX 512	/* the kernel command line */
#define BRK_MAX_REMOTES 8
#define BRK_MAX_DISKS 7		/* mpjail-lsi: SCSI IDs 0..6 */
#define BRK_MAX_FILE_SIZE (64 * 1024)
#define BRK_MAX_LINE 1024
#define BRK_MEM_MIN_MIB 16ULL
#define BRK_MEM_MAX_MIB (64ULL * 1024)

enum brk_remote_kind {
	BRK_REMOTE_LSI,		/* mpjail-lsi (the default) */
	BRK_REMOTE_QEMU,	/* QEMU's own -machine x-remote */
};

enum brk_boot {
	BRK_BOOT_FIRMWARE,	/* SeaBIOS: boots from the first disk */
	BRK_BOOT_KERNEL,	/* -kernel/-initrd/-append */
};

struct brk_disk {
	char path[BRK_PATH_MAX];
	bool ro;
	unsigned int line;	/* where it was written, for messages */
};

struct brk_remote {
	char name[BRK_NAME_MAX];	/* [remote NAME]: logs and QEMU's id */
	enum brk_remote_kind kind;
	char policy[BRK_PATH_MAX];
	char program[BRK_PATH_MAX];	/* "" = the default for the kind */
	unsigned int ndisks;
	struct brk_disk disks[BRK_MAX_DISKS];
	unsigned int line;
};

struct brk_id_range {
	bool set;
	uint32_t first;		/* never 0 */
	uint32_t count;
};

struct brk_vm {
	char file[BRK_PATH_MAX];
	char name[BRK_NAME_MAX];
	uint64_t memory_mib;
	unsigned int shutdown_timeout;	/* seconds: powerdown, then quit */
	char qemu[BRK_PATH_MAX];	/* the QEMU binary */
	char qemu_policy[BRK_PATH_MAX];
	enum brk_boot boot;
	char kernel[BRK_PATH_MAX];
	char initrd[BRK_PATH_MAX];	/* "" = none */
	char append[BRK_APPEND_MAX];
	struct brk_id_range uids, gids;	/* [tenant]: used when root */
	unsigned int nremotes;
	struct brk_remote remotes[BRK_MAX_REMOTES];
};

/*
 * Parse a VM file. On -EINVAL `diags` holds every error (file:line:col);
 * other negative errnos are I/O errors (also in diags). Relative paths
 * in the file are taken from the file's directory.
 */
int brk_vm_parse_file(const char *path, struct brk_vm *vm,
    struct pol_diags *diags);

/* As brk_vm_parse_file, from memory; `dir` resolves relative paths. */
int brk_vm_parse_buffer(const char *name, const char *dir, const char *buf,
    size_t len, struct brk_vm *vm, struct pol_diags *diags);

const char *brk_remote_kind_name(enum brk_remote_kind kind);

#endif /* MPJAIL_BROKER_VM_H */
