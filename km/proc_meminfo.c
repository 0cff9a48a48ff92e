/*
 * /proc/meminfo as the guest's: the host's lines, with MemTotal the
 * memory limit where that is less, and MemFree and MemAvailable no more
 * than MemTotal, as sysinfo answers. Runtimes size their heaps and caches
 * by it (libuv's uv_get_total_memory, glibc's get_phys_pages fallback).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "km.h"

#define MEMINFO_MAX 16384

static bool bounded(const char *name)
{
	return strcmp(name, "MemTotal") == 0 || strcmp(name, "MemFree") == 0 ||
	       strcmp(name, "MemAvailable") == 0;
}

char *km_proc_meminfo_text(struct km_vm *vm, size_t *len)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char *text = malloc(MEMINFO_MAX), line[256], name[64];
	unsigned long long kb, total_kb = vm->mem_limit / 1024;
	size_t n = 0;

	if (f == NULL || text == NULL) {
		if (f)
			fclose(f);
		free(text);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) && n < MEMINFO_MAX) {
		int w;
		if (sscanf(line, "%62[^:]: %llu kB", name, &kb) == 2 && bounded(name)) {
			if (strcmp(name, "MemTotal") == 0 && kb < total_kb)
				total_kb = kb;
			strcat(name, ":");
			w = snprintf(text + n, MEMINFO_MAX - n, "%-15s %8llu kB\n", name,
				     kb < total_kb ? kb : total_kb);
		} else {
			w = snprintf(text + n, MEMINFO_MAX - n, "%s", line);
		}
		n += w > 0 ? (size_t)w : 0;
	}
	fclose(f);
	*len = n < MEMINFO_MAX ? n : MEMINFO_MAX - 1;
	return text;
}
