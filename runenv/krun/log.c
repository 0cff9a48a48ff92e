/* krun's errors: one line on stderr and in the engine's --log, in its format. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "krun.h"

struct krun_globals krun;

static void log_line(const char *msg)
{
	FILE *log;
	char when[64];
	struct timespec now;
	struct tm tm;

	if (!krun.log_path || !(log = fopen(krun.log_path, "ae")))
		return;
	if (!krun.log_json) {
		fprintf(log, "%s\n", msg);
		fclose(log);
		return;
	}
	/* As runc's logrus writes it; the engine shows msg of the last error. */
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct json_object *line = json_object_new_object();
	json_object_object_add(line, "level", json_object_new_string("error"));
	json_object_object_add(line, "msg", json_object_new_string(msg));
	json_object_object_add(line, "time", json_object_new_string(when));
	fprintf(log, "%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
	json_object_put(line);
	fclose(log);
}

void krun_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "krun: ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	log_line(msg);
}
