/* config: one load, in passes (docs/config.md is the reference of every
 * key; the keys themselves are the tables of config_federation.c and of
 * the daemon sections handed in).
 *
 * The text is read twice as a stream of libyaml events (config_reader.c).
 * The first pass only counts the items of each list and collects their
 * names; the second fills the model's arrays (sized exactly from the first
 * pass) and every section's settings, and resolves every reference where it
 * appears, whatever order the sections come in, so each error carries its
 * own line and column. Then the options (the node to run as) are applied
 * and the sections derive what depends on the whole file. */
#include "lib/model/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/model/config_load.h"

struct pc_config {
	pc_model *model; /* owns the arena everything here lives in */
	const struct pc_section **sections;
	void **settings; /* parallel to sections */
	unsigned n_sections;
};

/* A daemon section at the top level: its keys into its settings struct,
 * then its own cross-key rule. */
static void read_section(struct pc_reader *rd, const struct pc_item *item, void *target)
{
	(void)target;
	struct pc_loader *ld = (struct pc_loader *)rd;
	unsigned k = (unsigned)(item - ld->top) - ld->n_static_top;
	const struct pc_section *section = ld->sections[k];
	yaml_mark_t start = rd->ev.start_mark;
	if (pc__walk_map(rd, section->items, ld->settings[k], NULL) && section->check != NULL) {
		const char *why = section->check(ld->settings[k]);
		if (why != NULL)
			pc__error_at(rd, &start, "%s: %s", rd->label, why);
	}
}

/* The tables of this load: the federation's top level plus one key per
 * section, and cdns[].anycast's keys; each section's settings with their
 * defaults. */
static int setup_sections(struct pc_loader *ld, const struct pc_section *const *sections)
{
	pc_model *m = ld->model;
	unsigned n_static = 0, n = 0, n_anycast = 0;
	while (pc_config_items[n_static].key != NULL)
		n_static++;
	for (; sections != NULL && sections[n] != NULL; n++)
		n_anycast += sections[n]->anycast;
	if (n_static + n > PC_CFG_MAX_KEYS)
		return PC_EINVAL;
	ld->top = calloc(n_static + n + 1, sizeof(*ld->top));
	ld->anycast = calloc(n_anycast + 1, sizeof(*ld->anycast));
	ld->settings = pc_arena_alloc(m->arena, (n ? n : 1) * sizeof(void *));
	m->anycast_roles = pc_arena_alloc(m->arena, (n_anycast ? n_anycast : 1) * sizeof(char *));
	if (ld->top == NULL || ld->anycast == NULL || ld->settings == NULL ||
	    m->anycast_roles == NULL)
		return PC_ENOMEM;
	memcpy(ld->top, pc_config_items, n_static * sizeof(*ld->top));
	ld->n_static_top = n_static;
	ld->sections = sections;
	ld->n_sections = n;
	for (unsigned k = 0; k < n; k++) {
		const struct pc_section *section = sections[k];
		ld->top[n_static + k] = (struct pc_item){
		    .key = section->name, .type = PC_ITEM_CUSTOM, .read = read_section};
		ld->settings[k] = pc_arena_alloc(m->arena, section->size ? section->size : 1);
		if (ld->settings[k] == NULL)
			return PC_ENOMEM;
		pc_schema_apply_defaults(section->items, ld->settings[k]);
		if (!section->anycast)
			continue;
		uint32_t r = m->n_anycast_roles++;
		m->anycast_roles[r] = pc_arena_strdup(m->arena, section->name);
		if (m->anycast_roles[r] == NULL)
			return PC_ENOMEM;
		ld->anycast[r] = (struct pc_item){.key = m->anycast_roles[r],
		                                  .type = PC_ITEM_ADDRS,
		                                  .offset = r * sizeof(struct pc_addr_list)};
	}
	ld->n_anycast = n_anycast;
	return PC_OK;
}

void pc_section_error(const struct pc_section_env *env, uint32_t line, uint32_t column,
                      const char *fmt, ...)
{
	char message[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	yaml_mark_t at = {.line = line ? line - 1 : 0, .column = column ? column - 1 : 0};
	pc__error_at(env->reader, line ? &at : NULL, "%s", message);
}

/* After pass 2: the sections' rules against the whole federation. */
static void verify_sections(struct pc_loader *ld)
{
	struct pc_section_env env = {
	    .model = ld->model,
	    .self_node = PC_NONE,
	    .arena = ld->model->arena,
	    .reader = &ld->rd,
	};
	for (unsigned k = 0; k < ld->n_sections && !ld->rd.stop; k++)
		if (ld->sections[k]->verify != NULL)
			ld->sections[k]->verify(ld->settings[k], &env);
}

/* After pass 2 without errors: the node to run as, then what the sections
 * derive from the whole file. */
static void finish_load(struct pc_loader *ld, const struct pc_config_options *opts)
{
	pc_model *m = ld->model;
	if (opts->self_node != NULL) {
		uint32_t self =
		    pc_model_lookup(ld->maps[PC_L_NODES], opts->self_node, strlen(opts->self_node));
		if (self == PC_NONE) {
			pc__error_at(&ld->rd, NULL, "self node %s: no such node in the config",
			             pc__quote(&ld->rd, opts->self_node));
			return;
		}
		m->self_node = self;
	}
	struct pc_section_env env = {
	    .model = m,
	    .self_node = m->self_node,
	    .load_time_s = opts->load_time_s,
	    .arena = m->arena,
	};
	for (unsigned k = 0; k < ld->n_sections; k++) {
		const struct pc_section *section = ld->sections[k];
		if (section->finish != NULL && section->finish(ld->settings[k], &env) != PC_OK)
			ld->rd.oom = true;
	}
}

static void loader_free(struct pc_loader *ld)
{
	pc__reader_free(&ld->rd);
	pc__federation_free(ld);
	free(ld->top);
	free(ld->anycast);
}

/* The config record, in the model's arena: one owner for everything. */
static pc_config *make_config(struct pc_loader *ld)
{
	pc_config *config = pc_arena_alloc(ld->model->arena, sizeof(*config));
	const struct pc_section **sections =
	    pc_arena_alloc(ld->model->arena, (ld->n_sections + 1) * sizeof(*sections));
	if (config == NULL || sections == NULL)
		return NULL;
	for (unsigned k = 0; k < ld->n_sections; k++)
		sections[k] = ld->sections[k];
	*config = (pc_config){ld->model, sections, ld->settings, ld->n_sections};
	return config;
}

int pc_config_load(const char *text, size_t len, const struct pc_config_options *opts,
                   pc_config_diag_fn diag, void *diag_ctx, pc_config **out)
{
	static const struct pc_config_options no_options = {0};
	if (out == NULL || (text == NULL && len > 0))
		return PC_EINVAL;
	*out = NULL;
	if (opts == NULL)
		opts = &no_options;
	struct pc_loader ld = {
	    .rd = {.source = opts->source != NULL ? opts->source : "<config>",
	           .diag = diag,
	           .diag_ctx = diag_ctx},
	    .scheme_service = {PC_NONE, PC_NONE, PC_NONE},
	};
	if (len > PC_CFG_MAX_INPUT) {
		pc__fatal_at(&ld.rd, NULL, "larger than %zu bytes", PC_CFG_MAX_INPUT);
		return PC_ECONFIG;
	}
	ld.model = pc_model_new();
	if (ld.model == NULL)
		return PC_ENOMEM;
	ld.rd.arena = ld.model->arena;
	pc_schema_apply_defaults(pc_config_items, ld.model);
	int rc = setup_sections(&ld, opts->sections);
	if (rc != PC_OK) {
		loader_free(&ld);
		pc_model_free(ld.model);
		return rc;
	}

	ld.rd.quiet = true;
	ld.rd.pass = 1;
	pc__read_pass(&ld.rd, text != NULL ? text : "", len, ld.top, ld.model);
	ld.rd.quiet = false;
	if (!ld.rd.stop)
		pc__federation_size(&ld);
	ld.rd.pass = 2;
	if (!ld.rd.stop)
		pc__read_pass(&ld.rd, text, len, ld.top, ld.model);
	if (!ld.rd.stop)
		pc__federation_check(&ld);
	if (!ld.rd.stop)
		verify_sections(&ld);
	if (!ld.rd.stop && ld.rd.n_errors == 0)
		finish_load(&ld, opts);

	rc = ld.rd.oom ? PC_ENOMEM : ld.rd.n_errors > 0 ? PC_ECONFIG : PC_OK;
	pc_config *config = NULL;
	if (rc == PC_OK) {
		ld.model->source = pc__strndup(&ld.rd, ld.rd.source, strlen(ld.rd.source));
		config = make_config(&ld);
		rc = ld.rd.oom || config == NULL ? PC_ENOMEM : pc_model_finish(ld.model);
		if (rc != PC_OK && rc != PC_ENOMEM) {
			ld.rd.n_errors = 0;
			pc__fatal_at(&ld.rd, NULL, "the model cannot be built: %s",
			             pc_strerror(rc));
			rc = PC_ECONFIG;
		}
	}
	loader_free(&ld);
	if (rc != PC_OK) {
		pc_model_free(ld.model);
		return rc;
	}
	*out = config;
	return PC_OK;
}

void pc_config_free(pc_config *config)
{
	if (config != NULL)
		pc_model_free(config->model); /* the config lives in its arena */
}

const pc_model *pc_config_model(const pc_config *config)
{
	return config->model;
}

const void *pc_config_settings(const pc_config *config, const struct pc_section *section)
{
	for (unsigned k = 0; k < config->n_sections; k++)
		if (config->sections[k] == section)
			return config->settings[k];
	return NULL;
}
