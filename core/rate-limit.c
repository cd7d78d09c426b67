// SPDX-License-Identifier: LGPL-2.1-or-later
/* rate-limit.c - token buckets (bytes/s, frames/s) per netdev and direction: the ini keys,
 * live changes, and the timers that resume a queue that waited. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "netbe/migrate.h"
#include "netbe-priv.h"
#include "rate-limit.h"

/* A bucket holds this many ms of its rate unless its burst key says otherwise. */
#define RATE_DEFAULT_BURST_MS 100
/* A waiting queue resumes once its buckets hold 1/RATE_RESUME_SHARE of their size (at least
 * one token): a few wakeups per bucket, not one per frame. */
#define RATE_RESUME_SHARE 4
/* Largest rates: 1 TiB/s, a billion frames/s. */
#define RATE_MAX_BYTES (INT64_C(1) << 40)
#define RATE_MAX_FRAMES INT64_C(1000000000)

/* The keys, by direction, unit and kind: RATE_KEY() indexes netbe_rate_limit_schema. */
enum { RATE_PER_SEC, RATE_BURST, RATE_INITIAL, RATE_KINDS };
enum { RATE_BYTES, RATE_FRAMES, RATE_UNITS };
#define RATE_KEYS (2 * RATE_UNITS * RATE_KINDS)
#define RATE_KEY(d, unit, kind) (((d)*RATE_UNITS + (unit)) * RATE_KINDS + (kind))

#define RATE_SCHEMA_DIR(dir, what)                                                                 \
    {dir "_bytes_per_sec",                                                                         \
     NETBE_OPT_SIZE,                                                                               \
     NULL,                                                                                         \
     what ": bytes per second of Ethernet frames (without vnet header); 0: no limit",              \
     0,                                                                                            \
     RATE_MAX_BYTES},                                                                              \
        {dir "_bytes_burst",                                                                       \
         NETBE_OPT_SIZE,                                                                           \
         NULL,                                                                                     \
         "bytes the " dir " bucket holds (default: 100 ms of " dir "_bytes_per_sec)",              \
         1,                                                                                        \
         RATE_MAX_BYTES},                                                                          \
        {dir "_bytes_initial_burst",                                                               \
         NETBE_OPT_SIZE,                                                                           \
         NULL,                                                                                     \
         "bytes the " dir " direction may pass once, on top of the bucket",                        \
         0,                                                                                        \
         RATE_MAX_BYTES},                                                                          \
        {dir "_frames_per_sec", NETBE_OPT_INT, NULL, what ": frames per second; 0: no limit", 0,   \
         RATE_MAX_FRAMES},                                                                         \
        {dir "_frames_burst",                                                                      \
         NETBE_OPT_INT,                                                                            \
         NULL,                                                                                     \
         "frames the " dir " bucket holds (default: 100 ms of " dir "_frames_per_sec)",            \
         1,                                                                                        \
         RATE_MAX_FRAMES},                                                                         \
    {                                                                                              \
        dir "_frames_initial_burst", NETBE_OPT_INT, NULL,                                          \
            "frames the " dir " direction may pass once, on top of the bucket", 0, RATE_MAX_FRAMES \
    }

const NetbeOptionSpec netbe_rate_limit_schema[] = {
    RATE_SCHEMA_DIR("rx", "rate limit of frames the backend receives and hands to the frontend"),
    RATE_SCHEMA_DIR("tx", "rate limit of frames the frontend sends out through the backend"),
    {NULL}};

/* The keys in effect: a rate of 0 is not kept (that bucket is off). */
typedef struct RateSettings {
    int64_t val[RATE_KEYS];
    bool set[RATE_KEYS];
} RateSettings;

/* Tokens are bytes or frames; a frame passes while a bucket holds one, and may take it below
 * zero (a frame larger than what was left): the rate holds on average, frames never wait
 * for more than the bucket can ever hold. */
typedef struct RateBucket {
    double rate;     /* tokens per second; 0: this bucket is off */
    double size;     /* most tokens it holds */
    double tokens;   /* what it holds now */
    double one_time; /* the initial burst left: spent first, never refilled */
} RateBucket;

typedef struct RateDirState {
    NetbeRateLimit *rl;
    NetbeRateDir d;
    RateBucket bucket[RATE_UNITS];
    bool limited;       /* a bucket is on */
    int64_t last_ns;    /* refilled up to this time */
    int64_t wait_since; /* a queue waits since this time; 0: none waits */
    uint64_t waiting[NETBE_MAX_QUEUES / 64];
    GSource *timer; /* resumes the waiting queues */
} RateDirState;

struct NetbeRateLimit {
    NetbeBackend *be;
    RateSettings cfg;
    RateDirState dir[2];
    int64_t stamp_ns; /* the time of the batch going on (netbe_rate_limit_stamp), 0: none */
};

static int64_t rate_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* g_get_monotonic_time()'s clock, in ns */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void rate_refill(RateDirState *ds, int64_t now)
{
    double secs = (double)(now - ds->last_ns) / 1e9;

    if (now <= ds->last_ns) {
        return; /* a batch's time, taken before a refill with the clock's */
    }

    for (int u = 0; u < RATE_UNITS; u++) {
        RateBucket *b = &ds->bucket[u];

        if (b->rate > 0) {
            b->tokens = MIN(b->size, b->tokens + secs * b->rate);
        }
    }
    ds->last_ns = now;
}

/* Queues of @ds that wait: all of them resume now (they check the buckets again). */
static void rate_resume_waiting(NetbeBackend *be, NetbeRateDir d, const uint64_t *waiting)
{
    for (unsigned q = 0; q < NETBE_MAX_QUEUES; q++) {
        if (waiting[q / 64] & (UINT64_C(1) << (q % 64))) {
            netbe_backend_rate_resume(be, d, q);
        }
    }
}

/* The end of a wait: count its time. */
static void rate_wait_over(RateDirState *ds, int64_t now)
{
    if (ds->wait_since) {
        ds->rl->be->rate_wait_ns[ds->d] += (uint64_t)(now - ds->wait_since);
        ds->wait_since = 0;
    }
}

static gboolean rate_timer_due(gpointer data)
{
    RateDirState *ds = data;
    uint64_t waiting[G_N_ELEMENTS(ds->waiting)];

    rate_wait_over(ds, rate_now_ns());
    memcpy(waiting, ds->waiting, sizeof(waiting));
    memset(ds->waiting, 0, sizeof(ds->waiting));
    rate_resume_waiting(ds->rl->be, ds->d, waiting); /* may free ds (a live change) */
    return G_SOURCE_CONTINUE;
}

static gboolean rate_timer_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    g_source_set_ready_time(s, -1); /* once; admit() arms it again */
    return cb(data);
}

static GSourceFuncs rate_timer_funcs = {.dispatch = rate_timer_dispatch};

bool netbe_rate_limit_admit(NetbeRateLimit *rl, NetbeRateDir d, unsigned queue)
{
    RateDirState *ds = &rl->dir[d];
    int64_t now, wait = 0;
    bool ok = true;

    if (!ds->limited) {
        return true;
    }
    now = rl->stamp_ns ? rl->stamp_ns : rate_now_ns();
    rate_refill(ds, now);
    for (int u = 0; u < RATE_UNITS; u++) {
        const RateBucket *b = &ds->bucket[u];
        double want = MIN(b->size, MAX(1.0, b->size / RATE_RESUME_SHARE));

        if (b->rate > 0 && b->one_time < 1 && b->tokens < 1) {
            ok = false;
            wait = MAX(wait, (int64_t)((want - b->tokens) / b->rate * 1e9));
        }
    }
    if (ok) {
        return true;
    }
    ds->waiting[queue / 64] |= UINT64_C(1) << (queue % 64);
    if (!ds->wait_since) {
        ds->wait_since = now;
        rl->be->rate_waits[d]++;
    }
    g_source_set_ready_time(ds->timer, (now + wait) / 1000 + 1);
    return false;
}

void netbe_rate_limit_stamp(NetbeRateLimit *rl, bool on)
{
    rl->stamp_ns = on ? rate_now_ns() : 0;
}

void netbe_rate_limit_charge(NetbeRateLimit *rl, NetbeRateDir d, size_t bytes)
{
    RateDirState *ds = &rl->dir[d];

    for (int u = 0; ds->limited && u < RATE_UNITS; u++) {
        RateBucket *b = &ds->bucket[u];
        double cost = u == RATE_BYTES ? (double)bytes : 1.0;

        if (b->rate <= 0) {
            continue;
        }
        if (b->one_time > 0) {
            b->one_time -= cost;
            cost = b->one_time < 0 ? -b->one_time : 0;
            b->one_time = MAX(b->one_time, 0);
        }
        b->tokens -= cost;
    }
}

void netbe_rate_limit_refund(NetbeRateLimit *rl, NetbeRateDir d, size_t bytes)
{
    RateDirState *ds = &rl->dir[d];

    for (int u = 0; ds->limited && u < RATE_UNITS; u++) {
        RateBucket *b = &ds->bucket[u];

        if (b->rate > 0) {
            b->tokens += u == RATE_BYTES ? (double)bytes : 1.0;
        }
    }
}

void netbe_rate_limit_free(NetbeRateLimit *rl)
{
    if (!rl) {
        return;
    }
    for (int d = 0; d < 2; d++) {
        g_source_destroy(rl->dir[d].timer);
        g_source_unref(rl->dir[d].timer);
    }
    g_free(rl);
}

/* Give bucket @u of @ds the settings @cfg has; @given: the keys this change wrote. */
static void rate_bucket_apply(RateDirState *ds, int u, const RateSettings *cfg, const bool *given)
{
    RateBucket *b = &ds->bucket[u];
    int rate_key = RATE_KEY(ds->d, u, RATE_PER_SEC);
    int burst_key = rate_key + RATE_BURST, initial_key = rate_key + RATE_INITIAL;
    bool fresh = b->rate <= 0;

    b->rate = cfg->set[rate_key] ? (double)cfg->val[rate_key] : 0;
    if (b->rate <= 0) {
        *b = (RateBucket){0};
        return;
    }
    b->size = cfg->set[burst_key] ? (double)cfg->val[burst_key]
                                  : MAX(1.0, b->rate * RATE_DEFAULT_BURST_MS / 1000);
    b->tokens = fresh ? b->size : MIN(b->tokens, b->size); /* a new bucket starts full */
    if (fresh || given[initial_key]) {
        b->one_time = cfg->set[initial_key] ? (double)cfg->val[initial_key] : 0;
    }
}

/* Check @cfg: a burst needs its rate. Errors go to @errors, formatted against @o. */
static bool rate_settings_check(const RateSettings *cfg, const NetbeOptions *o, GPtrArray *errors)
{
    bool ok = true;

    for (int k = 0; k < RATE_KEYS; k++) {
        int rate_key = k - k % RATE_KINDS;

        if (cfg->set[k] && k != rate_key && !cfg->set[rate_key]) {
            g_ptr_array_add(errors,
                            netbe_options_format_error(o, netbe_rate_limit_schema[k].name,
                                                       "needs %s (a burst of a bucket that is off)",
                                                       netbe_rate_limit_schema[rate_key].name));
            ok = false;
        }
    }
    return ok;
}

/* Make @cfg the limits of @be (@given: the keys written by this change); waiting queues
 * check again under them. */
static void rate_limit_set(NetbeBackend *be, const RateSettings *cfg, const bool *given)
{
    NetbeRateLimit *rl = be->rate;
    uint64_t waiting[2][NETBE_MAX_QUEUES / 64] = {{0}};
    bool any = false;
    int64_t now = rate_now_ns();

    for (int d = 0; d < 2; d++) {
        any |= cfg->set[RATE_KEY(d, RATE_BYTES, RATE_PER_SEC)] ||
               cfg->set[RATE_KEY(d, RATE_FRAMES, RATE_PER_SEC)];
    }
    if (!rl && any) {
        rl = be->rate = g_new0(NetbeRateLimit, 1);
        rl->be = be;
        for (int d = 0; d < 2; d++) {
            rl->dir[d].rl = rl;
            rl->dir[d].d = (NetbeRateDir)d;
            rl->dir[d].timer = g_source_new(&rate_timer_funcs, sizeof(GSource));
            g_source_set_callback(rl->dir[d].timer, rate_timer_due, &rl->dir[d], NULL);
            g_source_set_name(rl->dir[d].timer, "netbe-rate-limit");
            g_source_attach(rl->dir[d].timer, be->rt->ctx);
        }
    }
    for (int d = 0; rl && d < 2; d++) {
        RateDirState *ds = &rl->dir[d];

        rate_refill(ds, now); /* what the old rates earned up to now */
        rate_wait_over(ds, now);
        memcpy(waiting[d], ds->waiting, sizeof(ds->waiting));
        memset(ds->waiting, 0, sizeof(ds->waiting));
        g_source_set_ready_time(ds->timer, -1);
        ds->limited = false;
        for (int u = 0; u < RATE_UNITS; u++) {
            rate_bucket_apply(ds, u, cfg, given);
            ds->limited |= ds->bucket[u].rate > 0;
        }
    }
    if (rl) {
        rl->cfg = *cfg;
    }
    if (rl && !any) {
        netbe_rate_limit_free(rl);
        be->rate = NULL;
    }
    for (int d = 0; d < 2; d++) {
        rate_resume_waiting(be, (NetbeRateDir)d, waiting[d]);
    }
}

bool netbe_rate_limit_configure(NetbeBackend *be, const NetbeOptions *o, GPtrArray *errors)
{
    RateSettings cfg = {0};
    bool changed[RATE_KEYS];

    for (int k = 0; k < RATE_KEYS; k++) {
        const char *key = netbe_rate_limit_schema[k].name;

        cfg.val[k] = netbe_options_get_int(o, key);
        /* a rate of 0 is no limit: its bucket is off */
        cfg.set[k] = netbe_options_is_set(o, key) && !(k % RATE_KINDS == 0 && cfg.val[k] == 0);
    }
    if (!rate_settings_check(&cfg, o, errors)) {
        return false;
    }
    for (int k = 0; k < RATE_KEYS; k++) { /* a reload grants an initial burst it changed only */
        changed[k] = cfg.set[k] &&
                     (!be->rate || !be->rate->cfg.set[k] || be->rate->cfg.val[k] != cfg.val[k]);
    }
    rate_limit_set(be, &cfg, changed);
    return true;
}

/* Marks the rate limits in a backend's handover record, after its counters ("RATE"). */
#define RATE_MIG_MAGIC 0x52415445u

void netbe_rate_limit_save(const NetbeBackend *be, NetbeMigWriter *w)
{
    const NetbeRateLimit *rl = be->rate;
    int64_t now = rate_now_ns();

    netbe_mig_put_u32(w, RATE_MIG_MAGIC);
    netbe_mig_put_u32(w, RATE_KEYS);
    for (int k = 0; k < RATE_KEYS; k++) {
        netbe_mig_put_u32(w, rl && rl->cfg.set[k]);
        netbe_mig_put_u64(w, rl ? (uint64_t)rl->cfg.val[k] : 0);
    }
    for (int d = 0; d < 2; d++) {
        const RateDirState *ds = rl ? &rl->dir[d] : NULL;

        for (int u = 0; u < RATE_UNITS; u++) {
            netbe_mig_put_u64(w, ds ? (uint64_t)(int64_t)ds->bucket[u].tokens : 0);
            netbe_mig_put_u64(w, ds ? (uint64_t)ds->bucket[u].one_time : 0);
        }
        netbe_mig_put_u64(w, be->rate_waits[d]);
        netbe_mig_put_u64(w, be->rate_wait_ns[d] +
                                 (ds && ds->wait_since ? (uint64_t)(now - ds->wait_since) : 0));
    }
}

/* Read the settings of a handover record into @cfg. Return: false if malformed or out of
 * range (the stream is untrusted). */
static bool rate_load_settings(NetbeMigReader *r, RateSettings *cfg)
{
    uint32_t magic, n, set;
    uint64_t val;

    if (!netbe_mig_get_u32(r, &magic) || magic != RATE_MIG_MAGIC || !netbe_mig_get_u32(r, &n) ||
        n != RATE_KEYS) {
        return false;
    }
    for (int k = 0; k < RATE_KEYS; k++) {
        const NetbeOptionSpec *s = &netbe_rate_limit_schema[k];

        if (!netbe_mig_get_u32(r, &set) || set > 1 || !netbe_mig_get_u64(r, &val)) {
            return false;
        }
        cfg->set[k] = set;
        cfg->val[k] = (int64_t)val;
        if (set && (cfg->val[k] < MAX(s->min, 1) || cfg->val[k] > s->max)) {
            return false;
        }
    }
    for (int k = 0; k < RATE_KEYS; k++) {
        if (cfg->set[k] && !cfg->set[k - k % RATE_KINDS]) {
            return false; /* a burst without its rate */
        }
    }
    return true;
}

bool netbe_rate_limit_load(NetbeBackend *be, NetbeMigReader *r)
{
    RateSettings cfg = {0};
    bool given[RATE_KEYS] = {false};
    uint64_t tokens[2][RATE_UNITS], one_time[2][RATE_UNITS], waits[2], wait_ns[2];

    if (netbe_mig_reader_at_end(r)) {
        return true; /* a source of stream version 3 or older: the ini's limits stay */
    }
    if (!rate_load_settings(r, &cfg)) {
        return false;
    }
    for (int d = 0; d < 2; d++) {
        for (int u = 0; u < RATE_UNITS; u++) {
            if (!netbe_mig_get_u64(r, &tokens[d][u]) || !netbe_mig_get_u64(r, &one_time[d][u])) {
                return false;
            }
        }
        if (!netbe_mig_get_u64(r, &waits[d]) || !netbe_mig_get_u64(r, &wait_ns[d])) {
            return false;
        }
    }
    rate_limit_set(be, &cfg, given);
    for (int d = 0; be->rate && d < 2; d++) {
        for (int u = 0; u < RATE_UNITS; u++) {
            RateBucket *b = &be->rate->dir[d].bucket[u];

            if (b->rate > 0) { /* where the source left them, within what they can hold */
                b->tokens =
                    CLAMP((double)(int64_t)tokens[d][u], -b->size - NETBE_FRAME_MAX, b->size);
                b->one_time = MIN((double)one_time[d][u], b->one_time);
            }
        }
    }
    for (int d = 0; d < 2; d++) {
        be->rate_waits[d] += waits[d];
        be->rate_wait_ns[d] += wait_ns[d];
    }
    return true;
}

/* The "key=value" words of a live change as options of [netdev.ID], line = word number. */
static NetbeOptions *rate_words_to_options(const char *id, const char *const *key_values,
                                           GPtrArray *errors)
{
    g_autofree char *section = g_strdup_printf("netdev.%s", id);
    NetbeOptions *o = netbe_options_new("rate-limit", section, 0);

    netbe_options_add_schema(o, netbe_rate_limit_schema);
    netbe_options_add_words(o, key_values, errors);
    netbe_options_validate(o, errors);
    return o;
}

bool netbe_runtime_set_rate_limit(NetbeRuntime *rt, const char *netdev_id,
                                  const char *const *key_values, GError **errp)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, netdev_id);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    NetbeOptions *o;
    RateSettings cfg = {0};
    bool given[RATE_KEYS] = {false};

    if (!be) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT, "rate-limit: no netdev '%s'", netdev_id);
        return false;
    }
    o = rate_words_to_options(netdev_id, key_values, errors);
    if (be->rate) {
        cfg = be->rate->cfg;
    }
    for (int k = 0; !errors->len && k < RATE_KEYS; k++) {
        const char *key = netbe_rate_limit_schema[k].name;

        given[k] = netbe_options_is_set(o, key);
        if (given[k]) {
            cfg.val[k] = netbe_options_get_int(o, key);
            cfg.set[k] = true;
        }
        if (given[k] && k % RATE_KINDS == RATE_PER_SEC && cfg.val[k] == 0) {
            /* off: its burst keys go with it, unless written with it (an error below) */
            for (int j = k; j < k + RATE_KINDS; j++) {
                cfg.set[j] = false;
            }
        }
    }
    if (!errors->len) {
        rate_settings_check(&cfg, o, errors);
    }
    if (errors->len) {
        netbe_errors_to_gerror(errors, NETBE_CONFIG_ERROR, errp);
        netbe_options_free(o);
        return false;
    }
    netbe_options_free(o);
    rate_limit_set(be, &cfg, given);
    return true;
}

char **netbe_runtime_get_rate_limit(NetbeRuntime *rt, const char *netdev_id, GError **errp)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, netdev_id);
    GPtrArray *out;

    if (!be) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT, "rate-limit: no netdev '%s'", netdev_id);
        return NULL;
    }
    out = g_ptr_array_new();
    for (int k = 0; be->rate && k < RATE_KEYS; k++) {
        const RateBucket *b =
            &be->rate->dir[k / (RATE_UNITS * RATE_KINDS)].bucket[(k / RATE_KINDS) % RATE_UNITS];

        if (be->rate->cfg.set[k] || (k % RATE_KINDS == RATE_BURST && b->rate > 0)) {
            int64_t v = k % RATE_KINDS == RATE_BURST ? (int64_t)b->size : be->rate->cfg.val[k];

            g_ptr_array_add(
                out, g_strdup_printf("%s=%" G_GINT64_FORMAT, netbe_rate_limit_schema[k].name, v));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, false);
}

bool netbe_runtime_get_rate_limit_stats(NetbeRuntime *rt, const char *netdev_id,
                                        NetbeRateLimitStats *out)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, netdev_id);
    int64_t now = rate_now_ns();

    if (!be) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->limited = be->rate != NULL;
    out->rx_waits = be->rate_waits[NETBE_RATE_RX];
    out->tx_waits = be->rate_waits[NETBE_RATE_TX];
    out->rx_wait_ns = be->rate_wait_ns[NETBE_RATE_RX];
    out->tx_wait_ns = be->rate_wait_ns[NETBE_RATE_TX];
    if (be->rate && be->rate->dir[NETBE_RATE_RX].wait_since) { /* a wait going on counts */
        out->rx_wait_ns += (uint64_t)(now - be->rate->dir[NETBE_RATE_RX].wait_since);
    }
    if (be->rate && be->rate->dir[NETBE_RATE_TX].wait_since) {
        out->tx_wait_ns += (uint64_t)(now - be->rate->dir[NETBE_RATE_TX].wait_since);
    }
    return true;
}
