/* See icp.h. The header is fixed-size, so the parser checks the length
 * once and then reads at fixed offsets; the payload is a URL whose NUL
 * must end the message exactly, so that what this node looks up is the
 * whole of what the querier sent. */
#include "lib/proto/icp.h"

#include <string.h>

#include "lib/base/err.h"

const char *pc_icp_opcode_name(unsigned opcode)
{
	switch (opcode) {
	case PC_ICP_OP_INVALID:
		return "invalid";
	case PC_ICP_OP_QUERY:
		return "query";
	case PC_ICP_OP_HIT:
		return "hit";
	case PC_ICP_OP_MISS:
		return "miss";
	case PC_ICP_OP_ERR:
		return "err";
	case PC_ICP_OP_SECHO:
		return "secho";
	case PC_ICP_OP_DECHO:
		return "decho";
	case PC_ICP_OP_MISS_NOFETCH:
		return "miss_nofetch";
	case PC_ICP_OP_DENIED:
		return "denied";
	case PC_ICP_OP_HIT_OBJ:
		return "hit_obj";
	default:
		return "unknown";
	}
}

const char *pc_icp_fault_name(unsigned fault)
{
	static const char *const names[PC_ICP_FAULT__COUNT] = {
	    [PC_ICP_FAULT_NONE] = "none",       [PC_ICP_FAULT_SHORT] = "short",
	    [PC_ICP_FAULT_VERSION] = "version", [PC_ICP_FAULT_LENGTH] = "length",
	    [PC_ICP_FAULT_PAYLOAD] = "payload", [PC_ICP_FAULT_OPCODE] = "opcode",
	};
	return fault < PC_ICP_FAULT__COUNT ? names[fault] : "unknown";
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int fail(struct pc_icp_message *out, uint8_t fault, int code)
{
	out->fault = fault;
	return code;
}

int pc_icp_parse(const uint8_t *wire, size_t len, struct pc_icp_message *out)
{
	if (out == NULL)
		return PC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (wire == NULL && len > 0)
		return PC_EINVAL;
	if (len < PC_ICP_HEADER_LEN)
		return fail(out, PC_ICP_FAULT_SHORT, PC_ESYNTAX);
	out->opcode = wire[0];
	out->version = wire[PC_ICP_OFF_VERSION];
	out->reqnum = get_u32(wire + PC_ICP_OFF_REQNUM);
	out->options = get_u32(wire + PC_ICP_OFF_OPTIONS);
	out->option_data = get_u32(wire + 12);
	memcpy(out->sender, wire + 16, 4);
	/* Squid reads both and answers both as version 2 (icpHandleUdp). */
	if (out->version != PC_ICP_VERSION && out->version != PC_ICP_VERSION_V3)
		return fail(out, PC_ICP_FAULT_VERSION, PC_ENOTSUP);
	/* RFC 2186 §2: the length is the whole message's; anything else is a
	 * truncated or padded datagram whose URL we cannot trust. */
	size_t length = (size_t)wire[PC_ICP_OFF_LENGTH] << 8 | wire[PC_ICP_OFF_LENGTH + 1];
	if (length != len || len > PC_ICP_MAX)
		return fail(out, PC_ICP_FAULT_LENGTH, PC_ERANGE);

	size_t at = PC_ICP_HEADER_LEN;
	if (out->opcode == PC_ICP_OP_QUERY) {
		if (len - at < 4)
			return fail(out, PC_ICP_FAULT_PAYLOAD, PC_ESYNTAX);
		memcpy(out->requester, wire + at, 4);
		at += 4;
	}
	const uint8_t *nul = memchr(wire + at, 0, len - at);
	/* The NUL must be the last byte: a URL followed by more bytes would
	 * be read one way here and maybe another by the querier. */
	if (nul == NULL || nul != wire + len - 1 || nul == wire + at)
		return fail(out, PC_ICP_FAULT_PAYLOAD, PC_ESYNTAX);
	out->url = (const char *)(wire + at);
	out->url_len = (size_t)(nul - (wire + at));
	return PC_OK;
}

int pc_icp_write(const struct pc_icp_message *msg, uint8_t *out, size_t out_size)
{
	if (msg == NULL || out == NULL || msg->url == NULL || msg->url_len == 0 ||
	    memchr(msg->url, 0, msg->url_len) != NULL)
		return PC_EINVAL;
	size_t requester = msg->opcode == PC_ICP_OP_QUERY ? 4 : 0;
	if (msg->url_len > PC_ICP_MAX)
		return PC_ERANGE;
	size_t len = PC_ICP_HEADER_LEN + requester + msg->url_len + 1;
	if (len > PC_ICP_MAX)
		return PC_ERANGE;
	if (len > out_size)
		return PC_ESPACE;
	out[0] = msg->opcode;
	out[PC_ICP_OFF_VERSION] = PC_ICP_VERSION;
	out[PC_ICP_OFF_LENGTH] = (uint8_t)(len >> 8);
	out[PC_ICP_OFF_LENGTH + 1] = (uint8_t)len;
	put_u32(out + PC_ICP_OFF_REQNUM, msg->reqnum);
	put_u32(out + PC_ICP_OFF_OPTIONS, msg->options);
	put_u32(out + 12, msg->option_data);
	memcpy(out + 16, msg->sender, 4);
	if (requester > 0)
		memcpy(out + PC_ICP_HEADER_LEN, msg->requester, 4);
	memcpy(out + PC_ICP_HEADER_LEN + requester, msg->url, msg->url_len);
	out[len - 1] = 0;
	return (int)len;
}

int pc_icp_answer_write(const struct pc_icp_message *query, uint8_t opcode, uint8_t *out,
                        size_t out_size)
{
	if (query == NULL)
		return PC_EINVAL;
	struct pc_icp_message answer = {
	    .opcode = opcode,
	    .reqnum = query->reqnum,
	    .url = query->url,
	    .url_len = query->url_len,
	};
	return pc_icp_write(&answer, out, out_size);
}

bool pc_icp_url_ok(const char *url, size_t len)
{
	if (url == NULL || len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return false;
	return true;
}

bool pc_icp_prefix_match(const struct pc_icp_prefix *prefixes, uint32_t n, const pc_addr *source)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct pc_icp_prefix *p = &prefixes[i];
		if (p->addr.family != source->family)
			continue;
		unsigned full = p->len / 8, rest = p->len % 8;
		if (memcmp(p->addr.bytes, source->bytes, full) != 0)
			continue;
		uint8_t mask = (uint8_t)(0xff00u >> rest);
		if (rest == 0 || ((source->bytes[full] ^ p->addr.bytes[full]) & mask) == 0)
			return true;
	}
	return false;
}
