/*
 * Cache keys (cache.h): SHA-256 over the step's identity, code,
 * parameters, inputs and artifact store.  The code of a C step is the
 * build id of the ELF object that holds its function (a hash of the file
 * when it has none), read once per object.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "config/stack.h"

/* ---- SHA-256 (FIPS 180-4) */

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(zenc__sha256 *c, const unsigned char *p)
{
	uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] +
		       (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
			(w[i - 15] >> 3)) +
		       w[i - 7] +
		       (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
			(w[i - 2] >> 10));
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	f = c->h[5];
	g = c->h[6];
	h = c->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		     ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		     ((a & b) ^ (a & cc) ^ (b & cc));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
	c->h[5] += f;
	c->h[6] += g;
	c->h[7] += h;
}

void zenc__sha256_init(zenc__sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
				       0xa54ff53a, 0x510e527f, 0x9b05688c,
				       0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->n = 0;
}

void zenc__sha256_update(zenc__sha256 *c, const void *data, size_t n)
{
	const unsigned char *p = data;

	c->len += n;
	while (n > 0) {
		size_t k = 64 - c->n < n ? 64 - c->n : n;
		memcpy(c->buf + c->n, p, k);
		c->n += k;
		p += k;
		n -= k;
		if (c->n == 64) {
			sha_block(c, c->buf);
			c->n = 0;
		}
	}
}

void zenc__sha256_hex(zenc__sha256 *c, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	static const unsigned char pad[64] = {0x80};
	uint64_t bits = c->len * 8;
	unsigned char len[8];
	int i, j;

	/* 0x80, zeros up to 56 bytes into a block, the length in bits. */
	zenc__sha256_update(c, pad, c->n < 56 ? 56 - c->n : 120 - c->n);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	zenc__sha256_update(c, len, 8);
	for (i = 0; i < 8; i++)
		for (j = 0; j < 8; j++)
			out[8 * i + j] =
				digits[(c->h[i] >> (28 - 4 * j)) & 0xf];
	out[64] = '\0';
}

/* A field of the key: its length, then its bytes, so that no two
 * sequences of fields hash alike. */
static void field(zenc__sha256 *c, const char *s)
{
	uint64_t n = s ? strlen(s) : UINT64_MAX;

	zenc__sha256_update(c, &n, sizeof(n));
	if (s)
		zenc__sha256_update(c, s, strlen(s));
}

/* ---- the code of a C step: its object's build id */

static int hash_file(const char *path, char out[65])
{
	unsigned char buf[65536];
	zenc__sha256 c;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	zenc__sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		zenc__sha256_update(&c, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -1;
	zenc__sha256_hex(&c, out);
	return 0;
}

struct find_obj {
	uintptr_t addr;
	int found;
	char ident[160];
};

/* The NT_GNU_BUILD_ID note of a PT_NOTE segment, as hex. */
static int build_id(const unsigned char *p, size_t size, char *out, size_t cap)
{
	size_t off = 0;

	while (off + sizeof(ElfW(Nhdr)) <= size) {
		const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(p + off);
		size_t name_off = off + sizeof(*nh);
		size_t desc_off = name_off + ((nh->n_namesz + 3) & ~3u);
		size_t next = desc_off + ((nh->n_descsz + 3) & ~3u);
		if (next > size)
			break;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    !memcmp(p + name_off, "GNU", 4) && nh->n_descsz > 0 &&
		    nh->n_descsz * 2 + 4 < cap) {
			size_t i;
			memcpy(out, "elf:", 4);
			for (i = 0; i < nh->n_descsz; i++)
				snprintf(
					out + 4 + 2 * i, 3, "%02x",
					p[desc_off + i]);
			return 0;
		}
		off = next;
	}
	return -1;
}

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find_obj *q = data;
	const char *name;
	char sum[65];
	int i, inside = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum && !inside; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && q->addr >= lo &&
		    q->addr < lo + ph->p_memsz)
			inside = 1;
	}
	if (!inside)
		return 0;
	q->found = 1;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_NOTE &&
		    build_id(
			    (const unsigned char
				     *)(info->dlpi_addr + ph->p_vaddr),
			    ph->p_memsz, q->ident, sizeof(q->ident)) == 0)
			return 1;
	}
	/* No build id: the file's content. */
	name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name
						   : "/proc/self/exe";
	if (hash_file(name, sum) == 0)
		snprintf(q->ident, sizeof(q->ident), "file:%s", sum);
	else
		snprintf(q->ident, sizeof(q->ident), "unknown");
	return 1;
}

/* Per object (its base address), its identity: one walk of the program
 * headers per object and process, not per step. */
static pthread_mutex_t objects_mu = PTHREAD_MUTEX_INITIALIZER;
static struct object_ident {
	const void *base;
	char ident[160];
} * objects;
static size_t n_objects, cap_objects;

static void object_ident(
	const void *fn, const void *base, char *out, size_t cap)
{
	struct find_obj q;
	size_t i;

	pthread_mutex_lock(&objects_mu);
	for (i = 0; i < n_objects; i++)
		if (objects[i].base == base) {
			snprintf(out, cap, "%s", objects[i].ident);
			pthread_mutex_unlock(&objects_mu);
			return;
		}
	memset(&q, 0, sizeof(q));
	q.addr = (uintptr_t)fn;
	dl_iterate_phdr(find_object, &q);
	if (!q.found)
		snprintf(q.ident, sizeof(q.ident), "unknown");
	zenc__array_grow(
		(void **)&objects, &cap_objects, n_objects + 1,
		sizeof(*objects));
	objects[n_objects].base = base;
	memcpy(objects[n_objects].ident, q.ident, sizeof(q.ident));
	n_objects++;
	snprintf(out, cap, "%s", q.ident);
	pthread_mutex_unlock(&objects_mu);
}

static void c_code(zenc__sha256 *c, const zenc_step *s)
{
	Dl_info di;
	const void *fn;
	char ident[160] = "unknown";
	const char *sname = NULL;

	/* A function pointer as an address: what dladdr() takes. */
	memcpy(&fn, &s->fn, sizeof(fn));
	memset(&di, 0, sizeof(di));
	if (dladdr(fn, &di) && di.dli_sname && di.dli_saddr == fn)
		sname = di.dli_sname;
	field(c, "c");
	field(c, sname ? sname : "");
	if (s->cache_version) {
		field(c, "version");
		field(c, s->cache_version);
		return;
	}
	object_ident(fn, di.dli_fbase, ident, sizeof(ident));
	field(c, ident);
}

/* ---- the code of a YAML step: its command, environment and sources */

static int hash_path(zenc__sha256 *c, const char *path, const char *rel);

static int hash_dir(zenc__sha256 *c, const char *path, const char *rel)
{
	struct dirent **ents = NULL;
	int n, i, rc = 0;

	if ((n = scandir(path, &ents, NULL, alphasort)) < 0)
		return -1;
	field(c, "dir");
	field(c, rel);
	for (i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (rc == 0 && strcmp(nm, ".") && strcmp(nm, "..")) {
			char *p = zenc__asprintf("%s/%s", path, nm);
			char *r = zenc__asprintf("%s/%s", rel, nm);
			rc = hash_path(c, p, r);
			free(p);
			free(r);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int hash_path(zenc__sha256 *c, const char *path, const char *rel)
{
	struct stat st;
	char sum[65];

	if (stat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return hash_dir(c, path, rel);
	if (!S_ISREG(st.st_mode))
		return 0;
	if (hash_file(path, sum) < 0)
		return -1;
	field(c, "file");
	field(c, rel);
	field(c, sum);
	return 0;
}

/* The content of the files and folders the step's source patterns
 * match; a pattern that matches nothing counts as such (it may match
 * later). */
static int sources(zenc__sha256 *c, const zenc_step *s)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < s->n_cache_sources && rc == 0; i++) {
		const char *pat = s->cache_sources[i];
		char *full =
			pat[0] == '/' || !s->cache_dir
				? zenc__strdup(pat)
				: zenc__asprintf("%s/%s", s->cache_dir, pat);
		glob_t g;
		field(c, "source");
		field(c, pat);
		memset(&g, 0, sizeof(g));
		if (glob(full, GLOB_BRACE, NULL, &g) == 0) {
			for (j = 0; j < g.gl_pathc && rc == 0; j++) {
				rc = hash_path(c, g.gl_pathv[j], g.gl_pathv[j]);
				if (rc < 0)
					zenc__warn(
						"step %s: cannot read source "
						"'%s': %s",
						s->name, g.gl_pathv[j],
						strerror(errno));
			}
		} else {
			field(c, "nothing");
		}
		globfree(&g);
		free(full);
	}
	return rc;
}

void zenc__cache_key(zenc__exec *x, zenc__stepstate *ss)
{
	const zenc_step *s = ss->step;
	zenc__sha256 c;
	char hex[65];
	size_t i, j;

	free(ss->cache_key);
	ss->cache_key = NULL;
	zenc__sha256_init(&c);
	field(&c, "zenc-cache-1");
	field(&c, x->p->name);
	field(&c, s->name);
	if (s->cache_code) {
		field(&c, "code");
		field(&c, s->cache_code);
		if (s->cache_version)
			field(&c, s->cache_version);
		if (sources(&c, s) < 0)
			return;
	} else {
		c_code(&c, s);
	}
	field(&c, ss->params_json);
	for (i = 0; i < s->n_inputs; i++) {
		const zenc__input *in = &s->inputs[i];
		const zenc__stepstate *up =
			in->from ? &x->steps[in->from->index] : NULL;
		const char *sum = NULL;
		for (j = 0; up && j < up->n_arts; j++)
			if (!strcmp(up->arts[j].name, in->from_output))
				sum = up->arts[j].checksum;
		field(&c, in->name);
		field(&c, in->from_step);
		field(&c, in->from_output);
		field(&c, sum);
	}
	for (i = 0; i < s->n_deps; i++)
		field(&c, s->deps[i]->name);
	field(&c, x->stack ? zenc__stack_artifact_path(x->stack) : NULL);
	zenc__sha256_hex(&c, hex);
	ss->cache_key = zenc__strdup(hex);
}
