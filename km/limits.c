/*
 * The guest's own resource limits. Those whose host effect would break km
 * (the address space, data and stack limits of km's process, which holds
 * all of guest memory and km's own) are a view kept here: the guest reads
 * and sets them with Linux's rules, km enforces AS and DATA on the guest's
 * memory (vma.c), and an exec passes them on as km options. The others pass
 * through to km's process (sys_proc.c). See docs/architecture.md, "Resource
 * limits".
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "km.h"

static const struct {
	int resource;
	const char *name;
} viewed[] = {
	{ RLIMIT_AS, "as" },
	{ RLIMIT_DATA, "data" },
	{ RLIMIT_STACK, "stack" },
};
#define NVIEWED (sizeof(viewed) / sizeof(viewed[0]))

/* Given on km's command line (by an exec, or a user): used instead of km's own. */
static struct rlimit given[NVIEWED];
static bool is_given[NVIEWED];

static int view_index(int resource)
{
	for (size_t i = 0; i < NVIEWED; i++)
		if (viewed[i].resource == resource)
			return (int)i;
	return -1;
}

bool km_rlimit_viewed(int resource)
{
	return view_index(resource) >= 0;
}

static bool parse_value(const char *s, char **end, rlim_t *v)
{
	if (strncmp(s, "unlimited", 9) == 0) {
		*v = RLIM_INFINITY;
		*end = (char *)s + 9;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long n = strtoull(s, end, 10);
	*v = (rlim_t)n;
	return errno == 0;
}

/* --rlimit=NAME=SOFT:HARD, NAME as, data or stack, each value bytes or "unlimited". */
void km_rlimit_option(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end;
	struct rlimit r;
	size_t i;

	for (i = 0; eq && i < NVIEWED; i++)
		if (strlen(viewed[i].name) == (size_t)(eq - arg) &&
		    strncmp(arg, viewed[i].name, (size_t)(eq - arg)) == 0)
			break;
	if (eq == NULL || i == NVIEWED || !parse_value(eq + 1, &end, &r.rlim_cur) || *end != ':' ||
	    !parse_value(end + 1, &end, &r.rlim_max) || *end || r.rlim_cur > r.rlim_max)
		km_die(2, "km: bad --rlimit '%s': use as, data or stack =SOFT:HARD in bytes or "
			  "'unlimited', soft at most hard", arg);
	given[i] = r;
	is_given[i] = true;
}

/* CAP_SYS_RESOURCE in km's effective set: what lets Linux raise a hard limit. */
static bool has_sys_resource(void)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &head, data) != 0)
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

/* The view starts as km's own limits, or as km was told (exec). */
void km_limits_init(struct km_vm *vm)
{
	for (size_t i = 0; i < NVIEWED; i++) {
		struct rlimit *r = &vm->rlim[viewed[i].resource];
		if (is_given[i])
			*r = given[i];
		else if (getrlimit(viewed[i].resource, r) != 0)
			km_die(1, "km: cannot read the %s limit: %s", viewed[i].name, strerror(errno));
	}
	vm->cap_sys_resource = has_sys_resource();
}

/*
 * Linux's do_prlimit on the view: *old gets the limit as it was, then new
 * (if any) replaces it: EINVAL if its soft limit is above its hard one,
 * EPERM if it raises the hard limit without CAP_SYS_RESOURCE.
 */
long km_rlimit_view(struct km_vm *vm, int resource, const struct rlimit *new, struct rlimit *old)
{
	struct rlimit *r = &vm->rlim[resource];

	if (new && new->rlim_cur > new->rlim_max)
		return -EINVAL;
	if (new && new->rlim_max > r->rlim_max && !vm->cap_sys_resource)
		return -EPERM;
	if (old)
		*old = *r;
	if (new)
		*r = *new;
	return 0;
}

static int print_value(char *at, rlim_t v)
{
	return v == RLIM_INFINITY ? sprintf(at, "unlimited") : sprintf(at, "%llu", (unsigned long long)v);
}

/*
 * The view as km options for an exec'd km, written at `at`, one NUL-ended
 * option each (at most KM_RLIMIT_OPTION_MAX bytes each), their addresses
 * in opts: how many.
 */
int km_rlimit_options(const struct km_vm *vm, char *at, char **opts)
{
	for (size_t i = 0; i < NVIEWED; i++) {
		const struct rlimit *r = &vm->rlim[viewed[i].resource];
		opts[i] = at;
		at += sprintf(at, "--rlimit=%s=", viewed[i].name);
		at += print_value(at, r->rlim_cur);
		*at++ = ':';
		at += print_value(at, r->rlim_max) + 1;
	}
	return (int)NVIEWED;
}
