// The native check engine's C source (compiled at run time by TinyCC through bun:ffi cc; see engine.ts).
// Kept as a raw string so that the compiled binary carries it and vitest loads it like any module.
import { LATENCY_BUCKETS_S } from "../../daemon/api-types.ts";

export const ENGINE_C = String.raw`/*
 * lbctl's native check engine: TCP_CHECK and plain HTTP_GET run here, on one thread of their own, the
 * way keepalived's checker runs them (non-blocking sockets, one epoll, one timer heap). The JavaScript
 * scheduler keeps every decision (retry, delay_before_retry, verdicts, events, failure reasons): it
 * hands a checker's target and timing to this engine and gets back every result it must judge. The
 * one thing the engine decides alone is the steady case, where JavaScript would change nothing: a
 * checker that is up, has no retry pending and succeeds again (same HTTP status) is re-armed at its
 * delay_loop and only counted. At 10,000 checks a second that is nearly all of them, and it is what
 * brings the cost of a check down to keepalived's: a few system calls and no JavaScript at all.
 *
 * Compiled at run time by Bun's TinyCC (bun:ffi cc). No system headers are needed (a deployed host has
 * none): every libc declaration is written out below, for glibc on x86-64 and aarch64 Linux.
 *
 * Talking to JavaScript: commands arrive on a pipe (ADD, SCHEDULE, REMOVE; layout in
 * native/protocol.ts); results leave on another pipe, batched per loop iteration; per-checker counters
 * (successes, failures, latency histogram, last result) live in a shared array JavaScript reads when a
 * status is asked for.
 */
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

extern int *__errno_location(void);
#define ERRNO (*__errno_location())
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memmem(const void *haystack, size_t hlen, const void *needle, size_t nlen);
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, u32 len);
int connect(int fd, const void *addr, u32 len);
int getsockopt(int fd, int level, int name, void *value, u32 *len);
ssize_t send(int fd, const void *buf, size_t n, int flags);
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int close(int fd);
int epoll_create1(int flags);
int epoll_ctl(int ep, int op, int fd, void *event);
int epoll_wait(int ep, void *events, int max, int timeout);
struct lb_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clock, struct lb_timespec *ts);
typedef unsigned long lb_pthread_t;
int pthread_create(lb_pthread_t *thread, const void *attr, void *(*start)(void *), void *arg);
int pthread_detach(lb_pthread_t thread);
int pthread_sigmask(int how, const void *set, void *old);
#define SIG_BLOCK 0

#define EAGAIN 11
#define EINTR 4
#define EINPROGRESS 115
#define SOCK_STREAM 1
#define SOCK_NONBLOCK 0x800
#define SOCK_CLOEXEC 0x80000
#define SOL_SOCKET 1
#define SO_ERROR 4
#define MSG_NOSIGNAL 0x4000
#define EPOLL_CLOEXEC 0x80000
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_MOD 3
#define EPOLLIN 0x1
#define EPOLLOUT 0x4
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1

/* The kernel's struct epoll_event is packed on x86-64 only. */
#ifdef __x86_64__
struct lb_event { u32 events; u64 data; } __attribute__((packed));
#else
struct lb_event { u32 events; u64 data; };
#endif

/* Commands (JavaScript -> engine) and outcomes (engine -> JavaScript): keep in step with protocol.ts. */
enum { CMD_ADD = 1, CMD_SCHEDULE = 2, CMD_REMOVE = 3 };
enum { KIND_TCP = 1, KIND_HTTP = 2 };
enum { OUT_OK = 1, OUT_CONNECT_ERROR = 2, OUT_BIND_ERROR = 3, OUT_TIMEOUT = 4, OUT_IO_ERROR = 5,
       OUT_HTTP_RESPONSE = 6, OUT_FALLBACK = 7 };
enum { PHASE_CONNECTING = 0, PHASE_HEADERS = 2, PHASE_BODY = 3 };
enum { ST_FREE = 0, ST_IDLE, ST_WAITING, ST_CONNECTING, ST_SENDING, ST_READING };

#define CMD_HEADER 16
#define ADD_FIXED 176
#define RESULT_HEADER 32
#define MAX_RANGES 16
#define MAX_RESPONSE (4u << 20)  /* larger responses go back to the JavaScript checker */
#define MAX_HEAD (64u << 10)
/* Per-checker counters, in doubles (JavaScript reads them): see STAT_* and protocol.ts. */
#define STATS_PER_SLOT 24
enum { STAT_SUCCESSES = 0, STAT_FAILURES, STAT_COUNT, STAT_SUM_SECONDS, STAT_LAST_AT, STAT_LAST_OK,
       STAT_LAST_LATENCY_MS, STAT_BUCKETS = 8 };
/* The status API's latency buckets (api-types.ts LATENCY_BUCKETS_S), written in when the source is built. */
#define NBUCKETS ${LATENCY_BUCKETS_S.length}
static const double bucket_bounds[NBUCKETS] = { ${LATENCY_BUCKETS_S.join(", ")} };

struct slot {
  u32 gen;
  u8 state, kind, steady, has_bind, nranges, has_digest, registered, ended;
  u16 steady_status;
  u16 ranges[MAX_RANGES * 2];
  u32 timeout_ms, delay_loop_ms, addr_len, bind_len;
  u8 addr[28], bind_addr[28], digest[16];
  char *request;
  u32 request_len, sent;
  int fd;
  u32 io_seq;     /* stamps epoll events: an event of an earlier attempt is recognised and dropped */
  u32 timer_seq;  /* the one valid timer of this slot; older heap entries are stale */
  double started;
  char *buf;
  u32 len, cap;
};

struct timer { double due; u32 slot, seq; };

static struct slot *slots;
static u32 nslots;
static double *stats;
static double checks_run;  /* read by JavaScript for the scheduler's stats */
static struct timer *heap;
static u32 heap_len, heap_cap;
static int ep = -1, cmd_fd = -1, result_fd = -1;
static u32 max_in_flight, in_flight;
static u8 *cmd_buf; static u32 cmd_len, cmd_cap;
static u8 *out_buf; static u32 out_len, out_cap;
static int stopping;
/* The clocks as read once per turn of the loop (keepalived's timer_now): a check's start and end are
 * stamped with them, not with a clock_gettime of their own. */
static double loop_now, loop_wall;

static double mono_ms(void) { struct lb_timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double wall_ms(void) { struct lb_timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static u32 get32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u16 get16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static double getf64(const u8 *p) { double v; memcpy(&v, p, 8); return v; }

static int grow(u8 **buf, u32 *cap, u32 need) {
  if (need <= *cap) return 0;
  u32 c = *cap ? *cap : 4096;
  while (c < need) c *= 2;
  u8 *n = realloc(*buf, c);
  if (!n) return -1;
  *buf = n; *cap = c;
  return 0;
}

/* ---- timer heap (min-heap on due time; stale entries are skipped when they surface) ---- */
static void heap_push(double due, u32 slot, u32 seq) {
  if (heap_len == heap_cap) {
    u32 c = heap_cap ? heap_cap * 2 : 1024;
    struct timer *n = realloc(heap, c * sizeof(struct timer));
    if (!n) return;
    heap = n; heap_cap = c;
  }
  u32 i = heap_len++;
  while (i > 0) {
    u32 p = (i - 1) / 2;
    if (heap[p].due <= due) break;
    heap[i] = heap[p]; i = p;
  }
  heap[i].due = due; heap[i].slot = slot; heap[i].seq = seq;
}

static struct timer heap_pop(void) {
  struct timer top = heap[0], last = heap[--heap_len];
  u32 i = 0;
  for (;;) {
    u32 c = 2 * i + 1;
    if (c >= heap_len) break;
    if (c + 1 < heap_len && heap[c + 1].due < heap[c].due) c++;
    if (heap[c].due >= last.due) break;
    heap[i] = heap[c]; i = c;
  }
  if (heap_len) heap[i] = last;
  return top;
}

static void arm(u32 i, double due) { slots[i].timer_seq++; heap_push(due, i, slots[i].timer_seq); }

/* ---- MD5 (RFC 1321), for url digests ---- */
struct md5 { u32 a, b, c, d; u64 bytes; u8 block[64]; u32 fill; };
static const u32 md5_k[64] = {
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391 };
static const u8 md5_r[64] = { 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20,
  5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21,
  6, 10, 15, 21, 6, 10, 15, 21 };

static void md5_block(struct md5 *m, const u8 *p) {
  u32 w[16], a = m->a, b = m->b, c = m->c, d = m->d;
  for (int i = 0; i < 16; i++) w[i] = p[i * 4] | (p[i * 4 + 1] << 8) | (p[i * 4 + 2] << 16) | ((u32)p[i * 4 + 3] << 24);
  for (int i = 0; i < 64; i++) {
    u32 f, g;
    if (i < 16) { f = (b & c) | (~b & d); g = i; }
    else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
    else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
    else { f = c ^ (b | ~d); g = (7 * i) & 15; }
    u32 t = d; d = c; c = b;
    u32 x = a + f + md5_k[i] + w[g];
    b = b + ((x << md5_r[i]) | (x >> (32 - md5_r[i])));
    a = t;
  }
  m->a += a; m->b += b; m->c += c; m->d += d;
}
static void md5_init(struct md5 *m) { m->a = 0x67452301; m->b = 0xefcdab89; m->c = 0x98badcfe; m->d = 0x10325476; m->bytes = 0; m->fill = 0; }
static void md5_update(struct md5 *m, const u8 *p, u32 n) {
  m->bytes += n;
  while (n > 0) {
    u32 take = 64 - m->fill;
    if (take > n) take = n;
    memcpy(m->block + m->fill, p, take);
    m->fill += take; p += take; n -= take;
    if (m->fill == 64) { md5_block(m, m->block); m->fill = 0; }
  }
}
static void md5_final(struct md5 *m, u8 out[16]) {
  u64 bits = m->bytes * 8;
  u8 pad = 0x80, zero = 0, len[8];
  md5_update(m, &pad, 1);
  while (m->fill != 56) md5_update(m, &zero, 1);
  for (int i = 0; i < 8; i++) len[i] = (u8)(bits >> (8 * i));
  md5_update(m, len, 8);
  u32 v[4] = { m->a, m->b, m->c, m->d };
  for (int i = 0; i < 16; i++) out[i] = (u8)(v[i / 4] >> (8 * (i % 4)));
}

/* Exposed for the unit test that holds this MD5 to node:crypto's. */
int lbctl_engine_md5(const u8 *data, u32 n, u8 *out) { struct md5 m; md5_init(&m); md5_update(&m, data, n); md5_final(&m, out); return 0; }

/* ---- HTTP response framing, for the steady path only: anything unusual goes to JavaScript ---- */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int hex_value(int c) { return is_digit(c) ? c - '0' : lower(c) >= 'a' && lower(c) <= 'f' ? lower(c) - 'a' + 10 : -1; }

static long find(const char *b, u32 len, u32 from, const char *needle, u32 nlen) {
  if (from >= len) return -1;
  const char *p = memmem(b + from, len - from, needle, nlen);  /* libc's, not a loop compiled by TinyCC */
  return p ? (long)(p - b) : -1;
}

/* The value of header NAME (lower case, no colon) within the head, or 0; as JavaScript's reader
 * takes it: the name trimmed and compared without case, the value trimmed. */
static const char *header(const char *b, u32 head_end, const char *name, u32 nlen, u32 *vlen) {
  u32 i = 0;
  while (i < head_end) {
    long eol = find(b, head_end, i, "\r\n", 2);
    u32 end = eol < 0 ? head_end : (u32)eol;
    if (i > 0) {
      u32 k = i;
      while (k < end && (b[k] == ' ' || b[k] == '\t')) k++;
      u32 m = 0;
      while (m < nlen && k + m < end && lower(b[k + m]) == name[m]) m++;
      u32 c = k + m;
      while (m == nlen && c < end && (b[c] == ' ' || b[c] == '\t')) c++;
      if (m == nlen && c < end && b[c] == ':') {
        u32 s = c + 1, e = end;
        while (s < e && (b[s] == ' ' || b[s] == '\t')) s++;
        while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t')) e--;
        *vlen = e - s;
        return b + s;
      }
    }
    i = end + 2;
  }
  return 0;
}

enum { FRAME_MORE = 0, FRAME_DONE = 1, FRAME_ODD = 2 };

/* Whether the response is complete; when it is, *status and the body's MD5 (when wanted). A response
 * this reader does not fully understand is FRAME_ODD: JavaScript's reader then has the final word. */
static int http_frame(struct slot *s, int *status, u8 digest[16]) {
  const char *b = s->buf;
  long head = find(b, s->len, 0, "\r\n\r\n", 4);
  if (head < 0) return s->ended || s->len > MAX_HEAD ? FRAME_ODD : FRAME_MORE;
  if (head < 12 || memcmp(b, "HTTP/", 5) != 0 || !is_digit(b[5]) || b[6] != '.' || !is_digit(b[7]) || b[8] != ' ' ||
      !is_digit(b[9]) || !is_digit(b[10]) || !is_digit(b[11]) || (head > 12 && b[12] != ' ' && b[12] != '\r')) return FRAME_ODD;
  *status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
  u32 body = (u32)head + 4;
  struct md5 m;
  md5_init(&m);
  if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) { md5_final(&m, digest); return FRAME_DONE; }
  u32 vlen;
  const char *te = header(b, (u32)head, "transfer-encoding", 17, &vlen);
  if (te) {
    u32 k = 0;
    while (vlen == 7 && k < 7 && lower(te[k]) == "chunked"[k]) k++;
    if (k != 7) return FRAME_ODD;
    u32 pos = body;
    for (;;) {
      long eol = find(b, s->len, pos, "\r\n", 2);
      if (eol < 0) return s->ended ? FRAME_ODD : FRAME_MORE;
      u32 size = 0, i = pos, digits = 0;
      while (i < (u32)eol && hex_value(b[i]) >= 0) { if (++digits > 7) return FRAME_ODD; size = size * 16 + hex_value(b[i]); i++; }
      if (digits == 0 || (i < (u32)eol && b[i] != ';')) return FRAME_ODD;
      pos = (u32)eol + 2;
      if (size == 0) {
        if (find(b, s->len, pos - 2, "\r\n\r\n", 4) < 0) return s->ended ? FRAME_ODD : FRAME_MORE;
        if (s->has_digest) md5_final(&m, digest);
        return FRAME_DONE;
      }
      if (s->len < pos + size + 2) return s->ended ? FRAME_ODD : FRAME_MORE;
      if (s->has_digest) md5_update(&m, (const u8 *)b + pos, size);
      pos += size + 2;
    }
  }
  const char *cl = header(b, (u32)head, "content-length", 14, &vlen);
  if (cl) {
    u32 n = 0;
    if (vlen == 0 || vlen > 9) return FRAME_ODD;
    for (u32 i = 0; i < vlen; i++) { if (!is_digit(cl[i])) return FRAME_ODD; n = n * 10 + (cl[i] - '0'); }
    if (s->len - body < n) return s->ended ? FRAME_ODD : FRAME_MORE;
    if (s->has_digest) { md5_update(&m, (const u8 *)b + body, n); md5_final(&m, digest); }
    return FRAME_DONE;
  }
  if (!s->ended) return FRAME_MORE;
  if (s->has_digest) { md5_update(&m, (const u8 *)b + body, s->len - body); md5_final(&m, digest); }
  return FRAME_DONE;
}

static int status_allowed(struct slot *s, int status) {
  if (s->nranges == 0) return status >= 200 && status <= 299;
  for (u32 i = 0; i < s->nranges; i++) if (status >= s->ranges[2 * i] && status <= s->ranges[2 * i + 1]) return 1;
  return 0;
}

/* ---- results ---- */
static void count(u32 i, int ok, double latency_ms) {
  double *st = stats + (size_t)i * STATS_PER_SLOT, sec = latency_ms / 1000;
  st[ok ? STAT_SUCCESSES : STAT_FAILURES] += 1;
  st[STAT_COUNT] += 1;
  st[STAT_SUM_SECONDS] += sec;
  for (int b = 0; b < NBUCKETS; b++) if (sec <= bucket_bounds[b]) st[STAT_BUCKETS + b] += 1;
  st[STAT_LAST_AT] = loop_wall;
  st[STAT_LAST_OK] = ok;
  st[STAT_LAST_LATENCY_MS] = latency_ms;
  checks_run += 1;
}

static void emit(u32 i, int outcome, int phase, int status, int err, const char *extra, u32 extra_len, double latency_ms) {
  struct slot *s = &slots[i];
  u32 n = RESULT_HEADER + extra_len;
  if (grow(&out_buf, &out_cap, out_len + n)) return;
  u8 *p = out_buf + out_len;
  u32 received = s->len;
  u16 st = (u16)status;
  memcpy(p, &n, 4); memcpy(p + 4, &i, 4); memcpy(p + 8, &s->gen, 4);
  p[12] = (u8)outcome; p[13] = (u8)phase; memcpy(p + 14, &st, 2);
  memcpy(p + 16, &err, 4); memcpy(p + 20, &received, 4); memcpy(p + 24, &latency_ms, 8);
  if (extra_len) memcpy(p + RESULT_HEADER, extra, extra_len);
  out_len += n;
}

static void release_io(struct slot *s) {
  if (s->state != ST_FREE && s->fd >= 0) { close(s->fd); s->fd = -1; in_flight--; }
  s->registered = 0;
  s->io_seq++;
}

/* The end of one check. A steady success is re-armed here; everything else is JavaScript's to judge. */
static void finish(u32 i, int ok, int outcome, int phase, int status, int err, int with_response) {
  struct slot *s = &slots[i];
  /* A check that ends in the turn it started in (a loopback connect) is timed by the clock itself. */
  double now = s->started == loop_now ? mono_ms() : loop_now, latency = now - s->started;
  release_io(s);
  if (outcome != OUT_FALLBACK) count(i, ok, latency);  /* a fallback is counted when JavaScript has run it */
  if (ok && s->steady && (s->kind == KIND_TCP || status == s->steady_status)) {
    s->state = ST_WAITING;
    s->len = 0;
    arm(i, now + s->delay_loop_ms);
    return;
  }
  s->state = ST_IDLE;
  s->timer_seq++;  /* the deadline of this check is void */
  emit(i, outcome, phase, status, err, with_response ? s->buf : 0, with_response ? s->len : 0, latency);
  s->len = 0;
}

static int reading_phase(struct slot *s) { return find(s->buf, s->len, 0, "\r\n\r\n", 4) < 0 ? PHASE_HEADERS : PHASE_BODY; }

static void watch(u32 i, u32 events) {
  struct slot *s = &slots[i];
  struct lb_event ev;
  ev.events = events;
  ev.data = (u64)i | ((u64)s->io_seq << 32);
  if (epoll_ctl(ep, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev) == 0) { s->registered = 1; return; }
  finish(i, 0, OUT_IO_ERROR, s->state == ST_CONNECTING ? PHASE_CONNECTING : PHASE_HEADERS, 0, ERRNO, 0);
}

static void judge_response(u32 i) {
  struct slot *s = &slots[i];
  int status = 0;
  u8 digest[16];
  int frame = http_frame(s, &status, digest);
  if (frame == FRAME_MORE) return;
  int ok = frame == FRAME_DONE && status_allowed(s, status) && (!s->has_digest || memcmp(digest, s->digest, 16) == 0);
  finish(i, ok, OUT_HTTP_RESPONSE, s->ended, status, 0, 1);
}

static void receive(u32 i) {
  struct slot *s = &slots[i];
  for (;;) {
    if (s->len == s->cap) {
      if (s->cap >= MAX_RESPONSE) { finish(i, 0, OUT_FALLBACK, 0, 0, 0, 0); return; }
      if (grow((u8 **)&s->buf, &s->cap, s->cap ? s->cap * 2 : 4096)) { finish(i, 0, OUT_FALLBACK, 0, 0, 0, 0); return; }
    }
    ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len);
    if (n > 0) { s->len += (u32)n; continue; }
    if (n == 0) { s->ended = 1; break; }
    if (ERRNO == EINTR) continue;
    if (ERRNO == EAGAIN) break;
    finish(i, 0, OUT_IO_ERROR, reading_phase(s), 0, ERRNO, 0);
    return;
  }
  judge_response(i);
}

static void transmit(u32 i) {
  struct slot *s = &slots[i];
  while (s->sent < s->request_len) {
    ssize_t n = send(s->fd, s->request + s->sent, s->request_len - s->sent, MSG_NOSIGNAL);
    if (n > 0) { s->sent += (u32)n; continue; }
    if (n < 0 && ERRNO == EINTR) continue;
    if (n < 0 && ERRNO == EAGAIN) { s->state = ST_SENDING; watch(i, EPOLLOUT); return; }
    finish(i, 0, OUT_IO_ERROR, PHASE_HEADERS, 0, n < 0 ? ERRNO : 0, 0);
    return;
  }
  s->state = ST_READING;
  watch(i, EPOLLIN);
}

static void connected(u32 i) {
  struct slot *s = &slots[i];
  if (s->kind == KIND_TCP) { finish(i, 1, OUT_OK, 0, 0, 0, 0); return; }
  s->sent = 0;
  s->len = 0;
  s->ended = 0;
  transmit(i);
}

static void start_check(u32 i, double now) {
  struct slot *s = &slots[i];
  if (in_flight >= max_in_flight) { arm(i, now + 10); return; }  /* descriptors are finite: wait a little */
  s->started = now;
  s->len = 0;
  s->ended = 0;
  s->io_seq++;
  int family = s->addr[0] | (s->addr[1] << 8);
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { s->state = ST_CONNECTING; finish(i, 0, OUT_CONNECT_ERROR, PHASE_CONNECTING, 0, ERRNO, 0); return; }
  s->fd = fd;
  in_flight++;
  s->state = ST_CONNECTING;
  arm(i, now + s->timeout_ms);
  if (s->has_bind && bind(fd, s->bind_addr, s->bind_len) != 0) { finish(i, 0, OUT_BIND_ERROR, PHASE_CONNECTING, 0, ERRNO, 0); return; }
  if (connect(fd, s->addr, s->addr_len) == 0) { connected(i); return; }
  if (ERRNO != EINPROGRESS) { finish(i, 0, OUT_CONNECT_ERROR, PHASE_CONNECTING, 0, ERRNO, 0); return; }
  watch(i, EPOLLOUT);
}

static void on_event(u64 data) {
  u32 i = (u32)data;
  if (i >= nslots) return;
  struct slot *s = &slots[i];
  if ((u32)(data >> 32) != s->io_seq || s->fd < 0) return;
  if (s->state == ST_CONNECTING) {
    int err = 0;
    u32 len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = ERRNO;
    if (err) { finish(i, 0, OUT_CONNECT_ERROR, PHASE_CONNECTING, 0, err, 0); return; }
    connected(i);
  } else if (s->state == ST_SENDING) {
    transmit(i);
  } else if (s->state == ST_READING) {
    receive(i);
  }
}

static void on_timer(struct timer t, double now) {
  struct slot *s = &slots[t.slot];
  if (t.seq != s->timer_seq) return;
  if (s->state == ST_WAITING) { start_check(t.slot, now); return; }
  if (s->state == ST_CONNECTING) finish(t.slot, 0, OUT_TIMEOUT, PHASE_CONNECTING, 0, 0, 0);
  else if (s->state == ST_SENDING || s->state == ST_READING) finish(t.slot, 0, OUT_TIMEOUT, reading_phase(s), 0, 0, 0);
}

/* ---- commands ---- */
static void reset_slot(struct slot *s) {
  release_io(s);
  s->timer_seq++;
  s->state = ST_FREE;
  s->len = 0;
}

static void command(const u8 *c, u32 n) {
  u16 type = get16(c + 4);
  u32 i = get32(c + 8), gen = get32(c + 12);
  if (i >= nslots) return;
  struct slot *s = &slots[i];
  if (type == CMD_ADD) {
    if (n < ADD_FIXED) return;
    u32 request_len = get32(c + 172);
    if (ADD_FIXED + request_len > n) return;
    reset_slot(s);
    s->fd = -1;  /* calloc's zero is not "no descriptor"; slots are set up on first use, so that
                    the untouched part of the table costs no memory */
    char *request = realloc(s->request, request_len ? request_len : 1);
    if (!request) return;
    s->request = request;
    memcpy(s->request, c + ADD_FIXED, request_len);
    s->request_len = request_len;
    s->gen = gen;
    s->kind = c[16]; s->has_bind = c[17]; s->nranges = c[18] > MAX_RANGES ? MAX_RANGES : c[18]; s->has_digest = c[19];
    s->timeout_ms = get32(c + 20); s->delay_loop_ms = get32(c + 24);
    s->addr_len = get32(c + 28); memcpy(s->addr, c + 32, 28);
    s->bind_len = get32(c + 60); memcpy(s->bind_addr, c + 64, 28);
    for (u32 k = 0; k < MAX_RANGES * 2; k++) s->ranges[k] = get16(c + 92 + 2 * k);
    memcpy(s->digest, c + 156, 16);
    s->state = ST_IDLE;
    s->steady = 0;
    memset(stats + (size_t)i * STATS_PER_SLOT, 0, STATS_PER_SLOT * sizeof(double));
    return;
  }
  if (s->state == ST_FREE || s->gen != gen) return;
  if (type == CMD_REMOVE) { reset_slot(s); return; }
  if (type == CMD_SCHEDULE && n >= 28 && (s->state == ST_IDLE || s->state == ST_WAITING)) {
    double delay = getf64(c + 16);
    s->steady = c[24];
    s->steady_status = get16(c + 26);
    s->state = ST_WAITING;
    arm(i, loop_now + (delay > 0 ? delay : 0));
  }
}

static void read_commands(void) {
  for (;;) {
    if (grow(&cmd_buf, &cmd_cap, cmd_len + 65536)) return;
    ssize_t n = read(cmd_fd, cmd_buf + cmd_len, cmd_cap - cmd_len);
    if (n == 0) { stopping = 1; break; }  /* the JavaScript side closed the pipe: it is going away */
    if (n < 0) { if (ERRNO == EINTR) continue; break; }
    cmd_len += (u32)n;
  }
  u32 pos = 0;
  while (cmd_len - pos >= CMD_HEADER) {
    u32 n = get32(cmd_buf + pos);
    if (n < CMD_HEADER) { cmd_len = 0; return; }  /* cannot happen with protocol.ts; never loop on it */
    if (cmd_len - pos < n) break;
    command(cmd_buf + pos, n);
    pos += n;
  }
  memmove(cmd_buf, cmd_buf + pos, cmd_len - pos);
  cmd_len -= pos;
}

static void flush_results(void) {
  while (out_len > 0) {
    ssize_t n = write(result_fd, out_buf, out_len);
    if (n < 0 && ERRNO == EINTR) continue;
    if (n <= 0) return;  /* pipe full: JavaScript is busy; retried on the next iteration */
    memmove(out_buf, out_buf + n, out_len - (u32)n);
    out_len -= (u32)n;
  }
}

static void *engine_loop(void *arg) {
  struct lb_event events[256];
  unsigned long all_signals[16];  /* glibc's sigset_t: 1024 bits */
  (void)arg;
  /* Signals are the runtime's to handle, on its own threads (SIGHUP is a reload, SIGTERM a stop). */
  memset(all_signals, 0xff, sizeof all_signals);
  pthread_sigmask(SIG_BLOCK, all_signals, 0);
  while (!stopping) {
    double now = mono_ms();
    int timeout = -1;
    if (heap_len) { double wait = heap[0].due - now; timeout = wait <= 0 ? 0 : (int)wait + 1; }
    if (out_len && (timeout < 0 || timeout > 10)) timeout = 10;
    int n = epoll_wait(ep, events, 256, timeout);
    loop_now = mono_ms();
    loop_wall = wall_ms();
    for (int k = 0; k < n; k++) {
      if (events[k].data == (u64)0xffffffffffffffffULL) read_commands();
      else on_event(events[k].data);
    }
    while (heap_len && heap[0].due <= loop_now) on_timer(heap_pop(), loop_now);
    flush_results();
  }
  for (u32 i = 0; i < nslots; i++) if (slots[i].state != ST_FREE) reset_slot(&slots[i]);
  close(ep);
  close(cmd_fd);
  close(result_fd);
  return 0;
}

/* Starts the engine thread on the two pipe ends (both non-blocking). 0, or -errno-like on failure. */
int lbctl_engine_start(int commands, int results, u32 capacity, u32 max_checks_in_flight) {
  if (slots) return -1;
  slots = calloc(capacity, sizeof(struct slot));
  stats = calloc((size_t)capacity * STATS_PER_SLOT, sizeof(double));
  if (!slots || !stats) return -12;
  nslots = capacity;
  max_in_flight = max_checks_in_flight;
  cmd_fd = commands;
  result_fd = results;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return -ERRNO;
  struct lb_event ev;
  ev.events = EPOLLIN;
  ev.data = (u64)0xffffffffffffffffULL;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, cmd_fd, &ev) != 0) return -ERRNO;
  lb_pthread_t thread;
  int rc = pthread_create(&thread, 0, engine_loop, 0);
  if (rc != 0) return -rc;
  pthread_detach(thread);
  return 0;
}

double *lbctl_engine_stats(void) { return stats; }
double *lbctl_engine_checks(void) { return &checks_run; }
int lbctl_engine_event_size(void) { return sizeof(struct lb_event); }
`;
