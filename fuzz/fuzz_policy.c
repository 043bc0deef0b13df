/*
 * fuzz/fuzz_policy.c: libFuzzer target for the policy parser. The input
 * is a policy file's text; relative @include paths resolve in policy/
 * (run from the top of the tree), so the shipped files can be pulled in.
 * A policy that parses is also rendered back (pol_canonical), which walks
 * every field the parser filled in. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(const char *line, void *arg)
{
	size_t *n = arg;

	*n += strlen(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pol_diags diags;
	struct pol_policy *p = NULL;
	size_t n = 0;

	memset(&diags, 0, sizeof(diags));
	if (pol_parse_buffer("fuzz.policy", "policy", (const char *)data, size,
	    &p, &diags) == 0) {
		if (!p)
			abort();
		(void)pol_canonical(p, sink, &n);
	} else if (p) {
		abort(); /* a failed parse hands back nothing */
	}
	pol_free(p);
	return 0;
}
