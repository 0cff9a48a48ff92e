/* An OCI process object, rewritten so that its program runs under km. */
#include <string.h>

#include "krun.h"

bool krun_process_runs_km(struct json_object *process)
{
	struct json_object *args;
	const char *first;

	if (!json_object_object_get_ex(process, "args", &args) || !json_object_is_type(args, json_type_array))
		return false;
	first = json_object_get_string(json_object_array_get_idx(args, 0));
	return first && !strcmp(first, KRUN_KM_IN_CONTAINER);
}

bool krun_process_under_km(struct json_object *process, const char *const *km_options)
{
	struct json_object *args, *under_km;
	size_t i, n;

	if (!json_object_is_type(process, json_type_object) ||
	    !json_object_object_get_ex(process, "args", &args) ||
	    !json_object_is_type(args, json_type_array) || !(n = json_object_array_length(args))) {
		krun_error("the container's process has no args: there is no program to run");
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!json_object_is_type(json_object_array_get_idx(args, i), json_type_string)) {
			krun_error("the container's process args[%zu] is not a string", i);
			return false;
		}
	}
	if (krun_process_runs_km(process))
		return true;
	under_km = json_object_new_array_ext(n + 8);
	json_object_array_add(under_km, json_object_new_string(KRUN_KM_IN_CONTAINER));
	for (; km_options && *km_options; km_options++)
		json_object_array_add(under_km, json_object_new_string(*km_options));
	/* km's options end here, whatever the program's first word looks like. */
	json_object_array_add(under_km, json_object_new_string("--"));
	for (i = 0; i < n; i++)
		json_object_array_add(under_km, json_object_get(json_object_array_get_idx(args, i)));
	json_object_object_add(process, "args", under_km);
	return true;
}
