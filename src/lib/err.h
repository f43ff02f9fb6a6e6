/* Error codes of libpeercdn. Every function that can fail returns int: 0 on
 * success, a negative PC_E* code otherwise (Knot's and libuv's convention);
 * pc_strerror() turns any code into a sentence. */
#ifndef PC_LIB_ERR_H
#define PC_LIB_ERR_H

enum {
	PC_OK = 0,
	PC_ENOMEM = -1,      /* allocation failed */
	PC_EINVAL = -2,      /* argument out of contract */
	PC_EEXIST = -3,      /* duplicate key (prefix, name) */
	PC_ENOENT = -4,      /* no such item */
	PC_ERANGE = -5,      /* value or length out of range */
	PC_ECONFIG = -6,     /* config has errors; see the diagnostics */
	PC_ESYNTAX = -7,     /* malformed input */
	PC_ENOZONE = -8,     /* name is under no CDN domain we know */
	PC_ENOCUSTOMER = -9, /* codepoint names no configured provider */
	PC_ENOSERVICE = -10, /* codepoint names no service and none is implied */
	PC_EBADSIG = -11,    /* signature label missing or wrong */
	PC_EDECRYPT = -12,   /* encrypted codepoint did not authenticate */
	PC_ENOORIGIN = -13,  /* URL path names no configured origin or directory host */
	PC_ENOSERVER = -14,  /* policy allows no server for this request */
	PC_ESPACE = -15,     /* output buffer too small */
	PC_EIO = -16,        /* reading a file failed (CLI and loader helpers only) */
};

/* Never NULL; the string is static. */
const char *pc_strerror(int code);

#endif
