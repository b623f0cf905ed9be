#define _GNU_SOURCE
#include "privsep.h"

#include "../common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's kernel headers stop at Landlock ABI 2; the bits of later
 * ABIs are the kernel's (include/uapi/linux/landlock.h). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

int rombsr_user_lookup(const char *name, struct rombsr_user *out)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &found);

	if (e != 0 || found == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no user '%s'%s%s", name, e ? ": " : "", e ? strerror(e) : "");
	if (found->pw_uid == 0)
		return rombsr_error(ROMBSR_ECONFIG, "user '%s' is root: the sign node's users are unprivileged", name);
	if (snprintf(out->name, sizeof(out->name), "%s", name) >= (int)sizeof(out->name))
		return rombsr_error(ROMBSR_ECONFIG, "user name '%.32s…' is too long", name);
	out->uid = found->pw_uid;
	out->gid = found->pw_gid;
	return 0;
}

/* capset(2) with empty sets: nothing permitted, effective or inheritable;
 * the ambient set is cleared first (a service may have been given
 * CAP_SETUID and CAP_SETGID as ambient capabilities to start its signers). */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct head = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return rombsr_error(ROMBSR_EPERM, "cannot clear the ambient capabilities: %s", strerror(errno));
	if (syscall(SYS_capset, &head, data) != 0)
		return rombsr_error(ROMBSR_EPERM, "cannot give up capabilities: %s", strerror(errno));
	return 0;
}

int rombsr_user_become(const struct rombsr_user *user)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (setgroups(0, NULL) != 0 || setresgid(user->gid, user->gid, user->gid) != 0 ||
	    setresuid(user->uid, user->uid, user->uid) != 0)
		return rombsr_error(ROMBSR_EPERM, "cannot become user '%s': %s (start the sign node as root, or with "
				    "CAP_SETUID and CAP_SETGID)", user->name, strerror(errno));
	if (drop_capabilities() < 0)
		return ROMBSR_EPERM;
	/* Fail closed: the switch must be complete and for good. */
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 || ruid != user->uid ||
	    euid != user->uid || suid != user->uid || rgid != user->gid || egid != user->gid || sgid != user->gid ||
	    setuid(0) == 0 || getgroups(0, NULL) != 0)
		return rombsr_error(ROMBSR_EPERM, "the switch to user '%s' is incomplete", user->name);
	return 0;
}

/* What each Landlock ABI can restrict on files: ABI 1's set, then REFER
 * (2), TRUNCATE (3) and IOCTL_DEV (5). */
static __u64 handled_access(int abi)
{
	__u64 a = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		  LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		  LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		  LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		a |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return a;
}

/* A missing folder is skipped: a rule is only ever a permission. */
static int allow(int ruleset, const char *path, __u64 access)
{
	struct landlock_path_beneath_attr rule = {.allowed_access = access};
	int r = 0;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : rombsr_error(ROMBSR_EIO, "landlock: cannot open %s: %s", path, strerror(errno));
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
		r = rombsr_error(ROMBSR_EIO, "landlock: cannot allow %s: %s", path, strerror(errno));
	close(rule.parent_fd);
	return r;
}

int rombsr_landlock_restrict(const char *const *writable, size_t nwritable, const char *const *readable,
			    size_t nreadable, bool *applied)
{
	static const char *const system_folders[] = {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys"};
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	struct landlock_ruleset_attr attr = {0};
	__u64 read_exec = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	int ruleset, r = 0;

	*applied = false;
	if (abi < 1)
		return 0;
	attr.handled_access_fs = handled_access(abi);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return rombsr_error(ROMBSR_EIO, "landlock: cannot make a ruleset: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(system_folders) / sizeof(system_folders[0]) && r == 0; i++)
		r = allow(ruleset, system_folders[i], read_exec);
	/* /dev/null and /dev/urandom, for gpg and OpenSSL. */
	if (r == 0)
		r = allow(ruleset, "/dev", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
					    LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0));
	for (size_t i = 0; i < nwritable && r == 0; i++)
		r = allow(ruleset, writable[i], attr.handled_access_fs);
	for (size_t i = 0; i < nreadable && r == 0; i++)
		r = allow(ruleset, readable[i], read_exec);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		r = rombsr_error(ROMBSR_EPERM, "cannot set no_new_privs: %s", strerror(errno));
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		r = rombsr_error(ROMBSR_EPERM, "landlock: cannot restrict the worker: %s", strerror(errno));
	close(ruleset);
	*applied = r == 0;
	return r;
}
