/* Turns a decision and its trace into text an operator can follow from top
 * to bottom: who the client is, whose content it asks for, which branch of
 * the patent's claims 1-2 was taken, every server dropped and why, the
 * winner, and the record the provider receives. */
#include "explain.h"

#include <inttypes.h>
#include <string.h>

#include "lib/base/err.h"
#include "lib/policy/report.h"

static const char *as_label(const pc_model *model, uint32_t as, char *buf, size_t size)
{
	if (as >= model->n_ases)
		return "unknown AS";
	const struct pc_as *a = &model->ases[as];
	if (a->name != NULL)
		snprintf(buf, size, "AS %" PRIu32 " (%s)", a->asn, a->name);
	else
		snprintf(buf, size, "AS %" PRIu32, a->asn);
	return buf;
}

static void print_cdn_list(FILE *out, const pc_model *model, const struct pc_index_list *list)
{
	if (list->count == 0)
		fputs("none", out);
	for (uint32_t i = 0; i < list->count; i++)
		fprintf(out, "%s%s", i ? ", " : "", model->cdns[list->items[i]].name);
}

static void print_server(FILE *out, const pc_model *model, uint32_t server)
{
	const struct pc_server *s = &model->servers[server];
	char addr[64] = "-";
	if (s->addresses.count > 0)
		pc_addr_format(&s->addresses.items[0], addr, sizeof(addr));
	char as[96];
	fprintf(out, "%s %s [%s, %s, %s]", s->name, addr, model->cdns[s->cdn].name,
	        as_label(model, s->as, as, sizeof(as)), model->tiers[s->tier]);
}

static void print_client(FILE *out, const pc_model *model, const pc_request *req,
                         const pc_decision *decision)
{
	char addr[64] = "unknown", as[96];
	if (req->client.family != PC_AF_NONE)
		pc_addr_format(&req->client, addr, sizeof(addr));
	fprintf(out, "client    %s", addr);
	if (decision->client_net != PC_NONE) {
		const struct pc_client_net *net = &model->client_nets[decision->client_net];
		char prefix[64];
		pc_addr_format(&net->prefix, prefix, sizeof(prefix));
		fprintf(out, " is in %s/%u", prefix, net->prefix_len);
		if (net->location != NULL)
			fprintf(out, " (%s)", net->location);
	} else if (req->node != PC_NONE) {
		fprintf(out, " is in no known network; using the AS of node %s",
		        model->nodes[req->node].name);
	}
	fprintf(out, "\n          %s", as_label(model, decision->client_as, as, sizeof(as)));
	if (decision->client_as != PC_NONE) {
		fputs(", member of CDNs: ", out);
		print_cdn_list(out, model, &model->ases[decision->client_as].cdns);
	}
	fputc('\n', out);
}

static void print_step(FILE *out, const pc_model *model, const struct pc_trace_step *step)
{
	switch (step->kind) {
	case PC_TRACE_BRANCH:
		fprintf(out, "  try %-8s in CDN %s%s\n", pc_branch_name((enum pc_branch)step->a),
		        step->b < model->n_cdns ? model->cdns[step->b].name : "-",
		        step->b < model->n_cdns && model->cdns[step->b].exchange
		            ? ": an exchange, served by the CDNs it has agreements with"
		            : "");
		break;
	case PC_TRACE_AGREEMENT:
		fprintf(out, "    agreement %s: %s\n",
		        step->a < model->n_agreements ? model->agreements[step->a].name : "-",
		        step->b == 1   ? "covers the service, capacity taken"
		        : step->b == 0 ? "full this second, skipped"
		                       : "does not cover the service");
		break;
	case PC_TRACE_PRUNE:
		fputs("    drop      ", out);
		print_server(out, model, step->a);
		fprintf(out, ": %s", pc_prune_reason_name((enum pc_prune_reason)step->b));
		if (step->b == PC_PRUNE_LOAD)
			fprintf(out, " (load %" PRIu32 " %%)", step->c);
		else if (step->b == PC_PRUNE_PATH_COST && step->c == PC_COST_INFINITE)
			fputs(" (unreachable)", out);
		else if (step->b == PC_PRUNE_PATH_COST)
			fprintf(out, " (path cost %" PRIu32 " too high)", step->c);
		fputc('\n', out);
		break;
	case PC_TRACE_CANDIDATE:
		fputs("    keep      ", out);
		print_server(out, model, step->a);
		fprintf(out, ": path cost %" PRIu32 ", score %" PRIu32 "\n", step->b, step->c);
		break;
	case PC_TRACE_SPILL:
		fputs("    spill to  ", out);
		print_server(out, model, step->a);
		fprintf(out, ": nearer farms are full (path cost %" PRIu32 ")\n", step->b);
		break;
	case PC_TRACE_PASS:
		if (step->a == PC_PASS_SPILL)
			fprintf(out,
			        "    spill pass: nearer farms are full; farms at path cost %" PRIu32
			        " < cost <= %" PRIu32 "\n",
			        step->b, step->c);
		else if (step->a == PC_PASS_RELAX_COST)
			fprintf(
			    out,
			    "  relax     no server within the grade's path cost %" PRIu32
			    ": OUTSIDE still serves from a primary CDN (claim 2), any distance\n",
			    step->b);
		else if (step->a == PC_PASS_RELAX_LOAD)
			fprintf(out,
			        "  relax     none under the %" PRIu32
			        " %% watermark either: servers up to full capacity\n",
			        step->b);
		break;
	case PC_TRACE_REPLICA:
		fputs("    holder    ", out);
		print_server(out, model, step->a);
		fputs(": in the band and holds the object (a replica): preferred\n", out);
		break;
	case PC_TRACE_OFFER:
		fprintf(out, "    offer     CDN %s: ",
		        step->a < model->n_cdns ? model->cdns[step->a].name : "-");
		if (step->b == PC_OFFER_SERVICE)
			fputs("does not offer us the service (claim 9), skipped\n", out);
		else if (step->b == PC_OFFER_FOOTPRINT)
			fputs(
			    "the client is outside the footprint it offers us (claim 9), skipped\n",
			    out);
		else
			fprintf(out,
			        "its servers' load %" PRIu32
			        " reached the capacity it offers us (claim 9), skipped\n",
			        step->c);
		break;
	case PC_TRACE_WINNER:
		fputs("    winner    ", out);
		print_server(out, model, step->a);
		fprintf(out, " (score %" PRIu32 ")\n", step->b);
		break;
	case PC_TRACE_NOTE: {
		char flags[128];
		pc_decision_flags_format(step->a, flags, sizeof(flags));
		fprintf(out, "    note      %s\n", flags);
		break;
	}
	default:
		break; /* CLIENT, CLIENT_CDN, PRIMARY_CDN are printed in the header */
	}
}

static const char *branch_meaning(enum pc_branch branch)
{
	switch (branch) {
	case PC_BRANCH_PRIMARY:
		return "the client's CDN is a primary CDN of the provider (claim 1)";
	case PC_BRANCH_PEER:
		return "the client's CDN peers with a primary CDN of the provider (claim 2)";
	case PC_BRANCH_OUTSIDE:
		return "no peering covers it: served outside the client's CDN (claim 2)";
	default:
		return "no server may serve this request";
	}
}

void explain_print(FILE *out, const pc_model *model, const struct explain_input *input,
                   const pc_request *req, int rc, const pc_decision *decision,
                   const pc_trace *trace)
{
	const struct pc_provider *provider = &model->providers[req->provider];
	const struct pc_grade *grade = &model->grades[provider->grade];
	fprintf(out, "request   %s\n", input->target);
	fprintf(out, "          provider %s, service %s, object \"%s\", signature %s%s\n",
	        provider->name, model->services[req->service].name, input->object_desc,
	        input->signature_desc, input->encrypted ? ", codepoint was encrypted" : "");
	fputs("          primary CDNs: ", out);
	print_cdn_list(out, model, &provider->primary_cdns);
	fprintf(out, "; grade %s (tiers:", grade->name);
	for (uint32_t t = 0; t < model->n_tiers; t++)
		if (grade->tier_mask >> t & 1)
			fprintf(out, " %s", model->tiers[t]);
	if (grade->max_path_cost == PC_COST_INFINITE)
		fputs(", any distance)\n", out);
	else
		fprintf(out, ", path cost <= %" PRIu32 ")\n", grade->max_path_cost);
	print_client(out, model, req, decision);

	fputs("decision\n", out);
	for (uint32_t i = 0; trace != NULL && i < trace->count; i++)
		print_step(out, model, &trace->steps[i]);
	if (trace != NULL && trace->truncated)
		fputs("  (trace truncated)\n", out);

	if (rc != PC_OK) {
		fprintf(out, "answer    NONE: %s\n", pc_strerror(rc));
		return;
	}
	char flags[128];
	pc_decision_flags_format(decision->flags, flags, sizeof(flags));
	fprintf(out, "answer    %s from CDN %s: %s\n", pc_branch_name(decision->branch),
	        model->cdns[decision->cdn].name, branch_meaning(decision->branch));
	for (uint32_t i = 0; i < decision->n_servers; i++) {
		fprintf(out, "          %s ", i == 0 ? "->" : "  ");
		print_server(out, model, decision->servers[i]);
		fputc('\n', out);
	}
	fprintf(out, "          flags %s, path cost %" PRIu32 ", client scope /%u", flags,
	        decision->path_cost, decision->client_scope);
	if (decision->agreement != PC_NONE)
		fprintf(out, ", agreement %s", model->agreements[decision->agreement].name);
	fputc('\n', out);
	if (pc_report_due(decision)) {
		char line[1024];
		if (pc_report_format(model, req, decision, input->now_ms, line, sizeof(line)) > 0) {
			fprintf(out, "report    to %s: %s\n", provider->name, line);
			uint32_t exchange = pc_report_exchange(model, decision);
			if (exchange != PC_NONE)
				fprintf(out, "report    to exchange %s: %s\n",
				        model->cdns[exchange].name, line);
		}
	} else {
		fputs("report    none (served inside a primary CDN)\n", out);
	}
}
