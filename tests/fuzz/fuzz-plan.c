/* fuzz-plan.c: libFuzzer target for the plan loader: any bytes, as a plan
 * or a campaign, must load or fail with located errors, never crash or leak. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotsoak/plan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_diags	 d;
	struct plan_file	*pf;
	char			*json;
	size_t			 i;

	plan_diags_init(&d);
	pf = plan_file_load_buffer("fuzz.yaml", data, size, NULL, &d);
	if (pf != NULL) {
		/* What loads must print, and load again from what it printed. */
		if ((json = plan_file_to_json(pf)) == NULL)
			abort();
		plan_file_free(pf);
		pf = plan_file_load_buffer("fuzz.json", json, strlen(json), NULL, &d);
		if (pf == NULL)
			abort();
		plan_file_free(pf);
		free(json);
	}
	/* Every error is located inside the input or says it has no place. */
	for (i = 0; i < d.n; i++)
		if (d.v[i].message == NULL || d.v[i].message[0] == '\0')
			abort();
	plan_diags_free(&d);
	return 0;
}
