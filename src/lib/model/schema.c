/* schema: defaults and the docs' words for the key tables (schema.h). The
 * reading itself is the loader's (config_reader.c). */
#include "lib/model/schema.h"

#include <stdio.h>
#include <string.h>

#include "lib/model/config_reader.h"

void pc__schema_store(void *field, uint8_t size, uint64_t value)
{
	switch (size) {
	case 1: {
		uint8_t v = (uint8_t)value;
		memcpy(field, &v, 1);
		break;
	}
	case 2: {
		uint16_t v = (uint16_t)value;
		memcpy(field, &v, 2);
		break;
	}
	case 4: {
		uint32_t v = (uint32_t)value;
		memcpy(field, &v, 4);
		break;
	}
	case 8:
		memcpy(field, &value, 8);
		break;
	default:
		break;
	}
}

void pc_schema_apply_defaults(const struct pc_item *table, void *target)
{
	for (const struct pc_item *item = table; item->key != NULL; item++) {
		char *field = (char *)target + item->offset;
		switch (item->type) {
		case PC_ITEM_BOOL: {
			bool value = item->dflt != 0;
			memcpy(field, &value, sizeof(value));
			break;
		}
		case PC_ITEM_UINT:
		case PC_ITEM_MS:
		case PC_ITEM_ENUM:
		case PC_ITEM_CUSTOM:
			pc__schema_store(field, item->size, item->dflt);
			break;
		default: /* addresses, lists, host names: none, zero */
			break;
		}
		/* A nested mapping fills the same struct (a list's items do not). */
		if (item->type != PC_ITEM_LIST && item->items != NULL)
			pc_schema_apply_defaults(item->items, target);
	}
}

void pc_item_type_text(const struct pc_item *item, char *out, size_t size)
{
	/* In the order of enum pc_item_type; NULL: derived below. */
	// clang-format off
	static const char *const words[] = {
	    "bool", NULL, NULL, NULL, "host name", "address", "list of addresses",
	    "list of addresses, one per family", "list of text", "mapping", "list", "?",
	};
	// clang-format on
	_Static_assert(sizeof(words) / sizeof(words[0]) == PC_ITEM_CUSTOM + 1, "one a type");
	if (size == 0)
		return;
	out[0] = '\0';
	if (item->type_doc != NULL) {
		snprintf(out, size, "%s", item->type_doc);
	} else if (item->type == PC_ITEM_UINT || item->type == PC_ITEM_MS) {
		const char *unit = item->type == PC_ITEM_MS ? "ms" : item->unit;
		snprintf(out, size, "%llu..%llu%s%s", (unsigned long long)item->min,
		         (unsigned long long)item->max, unit != NULL ? " " : "",
		         unit != NULL ? unit : "");
	} else if (item->type == PC_ITEM_ENUM) {
		size_t used = 0;
		for (unsigned i = 0; item->names[i] != NULL && used < size; i++)
			used += (size_t)snprintf(out + used, size - used, "%s`%s`", i ? ", " : "",
			                         item->names[i]);
	} else {
		bool list = item->type == PC_ITEM_ADDRS || item->type == PC_ITEM_FAMILY2 ||
		            item->type == PC_ITEM_TEXTS;
		snprintf(out, size, "%s%s",
		         list && (item->flags & PC_ITEM_NONEMPTY) ? "non-empty " : "",
		         item->type <= PC_ITEM_CUSTOM ? words[item->type] : "?");
	}
}

/* The default of an item whose table gives no words for it. */
static const char *default_word(const struct pc_item *item)
{
	if (item->type == PC_ITEM_BOOL)
		return item->dflt ? "true" : "false";
	if (item->type == PC_ITEM_ENUM)
		return item->names[item->dflt];
	if (item->type == PC_ITEM_SECTION)
		return "see below";
	return item->type == PC_ITEM_LIST ? "empty" : "none"; /* addresses, host names, ... */
}

void pc_item_default_text(const struct pc_item *item, char *out, size_t size)
{
	if (size == 0)
		return;
	if (item->flags & PC_ITEM_REQUIRED)
		snprintf(out, size, "required");
	else if (item->default_doc != NULL)
		snprintf(out, size, "%s", item->default_doc);
	else if (item->type == PC_ITEM_UINT || item->type == PC_ITEM_MS)
		snprintf(out, size, "%llu", (unsigned long long)item->dflt);
	else
		snprintf(out, size, item->type == PC_ITEM_ENUM ? "`%s`" : "%s", default_word(item));
}
