/* `peercdnctl reports`: reads every segment of a report store (the files
 * the reports role writes, lib/policy/report_log), takes each whole record
 * and skips what is not one, and sums the records per provider and
 * agreement: requests, by branch, by serving CDN. A table for operators,
 * or --json for scripts. Reads only: safe beside a running node. */
#include "ctl/reports.h"

#include <dirent.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/base/file.h"
#include "lib/policy/report_log.h"
#include "lib/proto/reports_settings.h"

enum { NAME_MAX_ = 128, MAX_CDNS = 16 };

struct by_cdn {
	char name[NAME_MAX_];
	uint64_t requests;
};

struct row {
	char provider[NAME_MAX_];
	char agreement[NAME_MAX_];
	uint64_t requests, peer, outside;
	struct by_cdn cdns[MAX_CDNS];
	unsigned n_cdns;
};

struct sums {
	struct row *rows;
	size_t n, cap;
	uint64_t records, skipped_filter, damaged, segments;
	uint64_t first_ms, last_ms;
};

static void copy_value(char *out, const char *value, size_t len)
{
	if (len >= NAME_MAX_)
		len = NAME_MAX_ - 1;
	memcpy(out, value, len);
	out[len] = '\0';
}

static bool field(const struct pc_report_record *rec, const char *key, char *out)
{
	const char *value;
	size_t len;
	if (!pc_report_field(rec->line, rec->line_len, key, &value, &len))
		return false;
	copy_value(out, value, len);
	return true;
}

static struct row *row_of(struct sums *s, const char *provider, const char *agreement)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->rows[i].provider, provider) == 0 &&
		    strcmp(s->rows[i].agreement, agreement) == 0)
			return &s->rows[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct row *more = realloc(s->rows, cap * sizeof(*more));
		if (more == NULL)
			return NULL;
		s->rows = more;
		s->cap = cap;
	}
	struct row *row = &s->rows[s->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->provider, sizeof(row->provider), "%s", provider);
	snprintf(row->agreement, sizeof(row->agreement), "%s", agreement);
	return row;
}

static void add(struct sums *s, const struct pc_report_record *rec, const char *want_provider,
                uint64_t since_ms)
{
	char provider[NAME_MAX_] = "-", agreement[NAME_MAX_] = "-", branch[NAME_MAX_] = "",
	     cdn[NAME_MAX_] = "-", ts[NAME_MAX_] = "";
	field(rec, "provider", provider);
	field(rec, "agreement", agreement);
	field(rec, "branch", branch);
	field(rec, "cdn", cdn);
	uint64_t ms = 0;
	bool timed = field(rec, "ts", ts) && pc_report_time_parse(ts, strlen(ts), &ms) == PC_OK;
	if ((want_provider != NULL && strcmp(provider, want_provider) != 0) ||
	    (since_ms != 0 && (!timed || ms < since_ms))) {
		s->skipped_filter++;
		return;
	}
	struct row *row = row_of(s, provider, agreement);
	if (row == NULL)
		return;
	s->records++;
	if (timed && (s->first_ms == 0 || ms < s->first_ms))
		s->first_ms = ms;
	if (timed && ms > s->last_ms)
		s->last_ms = ms;
	row->requests++;
	if (strcmp(branch, "PEER") == 0)
		row->peer++;
	else if (strcmp(branch, "OUTSIDE") == 0)
		row->outside++;
	unsigned i = 0;
	while (i < row->n_cdns && strcmp(row->cdns[i].name, cdn) != 0)
		i++;
	if (i == row->n_cdns && row->n_cdns < MAX_CDNS) {
		snprintf(row->cdns[row->n_cdns].name, sizeof(row->cdns[0].name), "%s", cdn);
		row->n_cdns++;
	}
	if (i < row->n_cdns)
		row->cdns[i].requests++;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->provider, y->provider);
	return c != 0 ? c : strcmp(x->agreement, y->agreement);
}

/* Every segment of dir, oldest first, into s. */
static int read_store(const char *dir, const char *provider, uint64_t since_ms, struct sums *s)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".seg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **more = realloc(names, cap * sizeof(*names));
			if (more == NULL)
				break;
			names = more;
		}
		names[n] = strdup(e->d_name);
		if (names[n] != NULL)
			n++;
	}
	closedir(d);
	if (n > 0) /* names is NULL when the directory holds no segment */
		qsort(names, n, sizeof(*names), compare_names);
	int err = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *data = NULL;
		size_t len = 0;
		int rc = pc_file_read(path, &data, &len);
		if (rc != 0) {
			fprintf(stderr, "peercdnctl reports: %s: %s\n", path, pc_strerror(rc));
			err = rc;
		} else {
			struct pc_report_reader reader;
			pc_report_reader_init(&reader, data, len);
			struct pc_report_record rec;
			while (pc_report_reader_next(&reader, &rec) == PC_OK)
				add(s, &rec, provider, since_ms);
			s->damaged += reader.bad;
			s->segments++;
		}
		free(data);
		free(names[i]);
	}
	free(names);
	if (s->n > 0) /* qsort's base may not be NULL */
		qsort(s->rows, s->n, sizeof(*s->rows), compare_rows);
	return err;
}

static void print_table(const struct sums *s, const char *dir)
{
	printf("%-16s %-16s %10s %10s %10s  %s\n", "PROVIDER", "AGREEMENT", "REQUESTS", "PEER",
	       "OUTSIDE", "SERVED BY");
	uint64_t total = 0, peer = 0, outside = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct row *r = &s->rows[i];
		printf("%-16s %-16s %10llu %10llu %10llu  ", r->provider, r->agreement,
		       (unsigned long long)r->requests, (unsigned long long)r->peer,
		       (unsigned long long)r->outside);
		for (unsigned c = 0; c < r->n_cdns; c++)
			printf("%s%s=%llu", c ? " " : "", r->cdns[c].name,
			       (unsigned long long)r->cdns[c].requests);
		putchar('\n');
		total += r->requests;
		peer += r->peer;
		outside += r->outside;
	}
	printf("%-16s %-16s %10llu %10llu %10llu\n", "total", "", (unsigned long long)total,
	       (unsigned long long)peer, (unsigned long long)outside);
	printf("store %s: %llu segments, %llu records counted, %llu filtered out, %llu damaged "
	       "runs skipped\n",
	       dir, (unsigned long long)s->segments, (unsigned long long)s->records,
	       (unsigned long long)s->skipped_filter, (unsigned long long)s->damaged);
}

/* Names and values are percent-escaped report values (docs/reporting.md):
 * no quote, backslash or control byte, so they go into JSON as they are. */
static void print_json(const struct sums *s, const char *dir)
{
	printf("{\"path\":\"%s\",\"segments\":%llu,\"records\":%llu,\"filtered\":%llu,"
	       "\"damaged\":%llu,\"rows\":[",
	       dir, (unsigned long long)s->segments, (unsigned long long)s->records,
	       (unsigned long long)s->skipped_filter, (unsigned long long)s->damaged);
	for (size_t i = 0; i < s->n; i++) {
		const struct row *r = &s->rows[i];
		printf("%s{\"provider\":\"%s\",\"agreement\":\"%s\",\"requests\":%llu,"
		       "\"branches\":{\"PEER\":%llu,\"OUTSIDE\":%llu},\"cdns\":{",
		       i ? "," : "", r->provider, r->agreement, (unsigned long long)r->requests,
		       (unsigned long long)r->peer, (unsigned long long)r->outside);
		for (unsigned c = 0; c < r->n_cdns; c++)
			printf("%s\"%s\":%llu", c ? "," : "", r->cdns[c].name,
			       (unsigned long long)r->cdns[c].requests);
		printf("}}");
	}
	printf("]}\n");
}

static void usage(FILE *out)
{
	fputs("usage: peercdnctl reports [--path DIR] [--provider NAME] [--since TIME] [--json]\n"
	      "Sums a node's provider-report store per provider and agreement.\n"
	      "DIR defaults to " PC_REPORTS_PATH_DEFAULT "; TIME is UTC, RFC 3339\n"
	      "(2026-11-25T10:00:00Z) or a date (2026-11-25).\n",
	      out);
}

int reports_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"path", required_argument, NULL, 'p'},  {"provider", required_argument, NULL, 'P'},
	    {"since", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	const char *dir = PC_REPORTS_PATH_DEFAULT, *provider = NULL;
	uint64_t since_ms = 0;
	bool json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:P:s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			dir = optarg;
			break;
		case 'P':
			provider = optarg;
			break;
		case 's':
			if (pc_report_time_parse(optarg, strlen(optarg), &since_ms) != PC_OK) {
				fprintf(stderr, "peercdnctl reports: --since %s: not a UTC time\n",
				        optarg);
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	struct sums sums = {0};
	int err = read_store(dir, provider, since_ms, &sums);
	if (err == -ENOENT || err == -ENOTDIR || err == -EACCES) {
		fprintf(stderr, "peercdnctl reports: %s: %s\n", dir, pc_strerror(err));
		free(sums.rows);
		return 1;
	}
	if (json)
		print_json(&sums, dir);
	else
		print_table(&sums, dir);
	free(sums.rows);
	return err == 0 ? 0 : 1;
}
