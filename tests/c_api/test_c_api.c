/* C99 tests of rill.h: normal use and misuse. Every call returns a code; nothing crashes.
 * Usage: test_c_api GAIN_MODEL TINY_MODEL STEREO_MODEL (written by make_models.py) */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill/rill.h"

static int failures = 0;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s (detail: %s)\n", __FILE__, __LINE__, #cond,   \
                    rill_last_error_detail());                                                     \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

static unsigned char* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    unsigned char* data;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = (unsigned char*)malloc((size_t)n);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void test_version_and_status(void) {
    CHECK(rill_version_number() == RILL_VERSION_NUMBER);
    CHECK(strcmp(rill_version_string(), RILL_VERSION_STRING) == 0);
    CHECK(strcmp(rill_status_string(RILL_OK), "ok") == 0);
    CHECK(rill_status_string(RILL_ERR_FORMAT) != NULL);
    CHECK(strcmp(rill_status_string(-12345), "unknown status") == 0);
}

/* A model that loaded (perhaps from corrupted bytes) must create, process and release without
 * crashing; errors are fine. */
static void exercise_loaded(rill_model* m) {
    static float zeros[8][64], sink[8][64];
    const float* in[8];
    float* out[8];
    rill_model_info info;
    rill_stream* s = NULL;
    rill_stream_config cfg;
    int c;
    rill_model_info_init(&info);
    CHECK(rill_model_info_get(m, &info) == RILL_OK);
    rill_stream_config_init(&cfg);
    cfg.max_block_frames = 64;
    if (info.input_channels <= 8 && info.output_channels <= 8 &&
        rill_stream_create(m, &cfg, &s) == RILL_OK) {
        for (c = 0; c < 8; ++c) {
            in[c] = zeros[c];
            out[c] = sink[c];
        }
        rill_stream_process(s, in, out, 64);
        rill_stream_process(s, in, out, 3);
        rill_stream_reset(s);
        rill_stream_destroy(s);
    }
    rill_model_release(m);
}

static void test_load_misuse(const char* path) {
    rill_model* m = (rill_model*)1;
    rill_load_options opts;
    size_t size = 0, cut;
    unsigned char* bytes;
    CHECK(rill_model_load(NULL, NULL, &m) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(m == NULL);
    CHECK(rill_model_load(path, NULL, NULL) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_load("/nonexistent/dir/model.rill", NULL, &m) == RILL_ERR_IO);
    CHECK(strstr(rill_last_error_detail(), "/nonexistent/dir/model.rill") != NULL);
    CHECK(m == NULL);
    CHECK(rill_model_load_memory(NULL, 10, NULL, &m) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(m == NULL);
    CHECK(rill_model_load_memory("x", 1, NULL, NULL) == RILL_ERR_INVALID_ARGUMENT);
    m = (rill_model*)1;
    CHECK(rill_model_load_memory("", 0, NULL, &m) < 0);
    CHECK(m == NULL);
    CHECK(rill_model_load(".", NULL, &m) < 0); /* a directory */
    CHECK(m == NULL);
    CHECK(rill_model_load("", NULL, &m) < 0);
    rill_load_options_init(NULL); /* ignored */
    rill_model_info_init(NULL);
    rill_node_info_init(NULL);
    rill_stream_config_init(NULL);
    rill_load_options_init(&opts);
    opts.struct_size = 2;
    CHECK(rill_model_load(path, &opts, &m) == RILL_ERR_INVALID_ARGUMENT);
    rill_load_options_init(&opts);
    CHECK(rill_model_load(path, &opts, &m) == RILL_OK);
    rill_model_release(m);

    bytes = read_file(path, &size);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    { /* the whole file from memory loads like the path; the bytes are copied */
        rill_model_info a, b;
        rill_model* from_path = NULL;
        rill_model* from_memory = NULL;
        unsigned char* copy = (unsigned char*)malloc(size);
        memcpy(copy, bytes, size);
        CHECK(rill_model_load(path, NULL, &from_path) == RILL_OK);
        CHECK(rill_model_load_memory(copy, size, NULL, &from_memory) == RILL_OK);
        memset(copy, 0xff, size);
        free(copy);
        rill_model_info_init(&a);
        rill_model_info_init(&b);
        CHECK(rill_model_info_get(from_path, &a) == RILL_OK);
        CHECK(rill_model_info_get(from_memory, &b) == RILL_OK);
        CHECK(a.num_params == b.num_params && a.latency_frames == b.latency_frames &&
              a.num_weights == b.num_weights && a.sample_rate == b.sample_rate);
        CHECK(strcmp(a.description, b.description) == 0);
        /* reference counting: two extra references, three releases */
        rill_model_retain(from_memory);
        rill_model_retain(from_memory);
        rill_model_release(from_memory);
        rill_model_release(from_memory);
        CHECK(rill_model_info_get(from_memory, &b) == RILL_OK);
        rill_model_release(from_memory);
        rill_model_release(from_path);
    }
    for (cut = 0; cut < size; cut += (cut < 128 ? 1 : 13)) { /* truncated at many points */
        m = (rill_model*)1;
        CHECK(rill_model_load_memory(bytes, cut, NULL, &m) < 0);
        CHECK(m == NULL);
    }
    srand(7);
    for (cut = 0; cut < 2000; ++cut) { /* random corruption: a code, never a crash */
        unsigned char* copy = (unsigned char*)malloc(size);
        size_t k;
        memcpy(copy, bytes, size);
        for (k = 0; k < 3; ++k)
            copy[(size_t)rand() % size] ^= (unsigned char)(1u << (rand() % 8));
        m = NULL;
        if (rill_model_load_memory(copy, size, NULL, &m) == RILL_OK)
            exercise_loaded(m);
        free(copy);
    }
    free(bytes);
}

/* The first version of rill_stream_config, before max_block_frames existed. */
typedef struct old_stream_config {
    uint32_t struct_size;
    double sample_rate;
} old_stream_config;

static void test_stream(const char* path) {
    rill_model* m = NULL;
    rill_stream* s = NULL;
    rill_stream_config cfg;
    old_stream_config old;
    rill_model_info info;
    rill_port_info port;
    rill_param_info param;
    rill_node_info node;
    float in_buf[8192], out_buf[8192], value = 0;
    const float* in[1];
    float* out[1];
    const float* null_in[1] = {NULL};
    float* null_out[1] = {NULL};
    unsigned char* state;
    size_t state_size, i;
    uint32_t latency;

    CHECK(rill_model_load(path, NULL, &m) == RILL_OK);
    if (!m)
        return;
    rill_model_info_init(&info);
    CHECK(rill_model_info_get(m, &info) == RILL_OK);
    CHECK(info.num_inputs == 1 && info.input_channels == 1 && info.output_channels == 1);
    CHECK(info.sample_rate == 16000.0 && info.latency_frames == 2 && info.num_params == 1);
    CHECK(strcmp(info.license, "MIT") == 0);
    CHECK(rill_model_info_get(NULL, &info) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_info_get(m, NULL) == RILL_ERR_INVALID_ARGUMENT);
    { /* an older, smaller info struct: only the fields it has are written */
        uint32_t small[4] = {sizeof(uint32_t) * 3, 0, 0, 0xdeadbeef};
        CHECK(rill_model_info_get(m, (rill_model_info*)small) == RILL_OK);
        CHECK(small[1] == 1 && small[2] == 1 && small[3] == 0xdeadbeef);
    }
    CHECK(rill_model_input(m, 0, &port) == RILL_OK && strcmp(port.name, "x") == 0);
    CHECK(rill_model_input(m, 1, &port) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_output(m, 0, &port) == RILL_OK && port.channels == 1);
    CHECK(rill_model_param(m, 0, &param) == RILL_OK && strcmp(param.name, "gain") == 0);
    CHECK(param.max_value == 2.0f && param.default_value == 1.0f);
    CHECK(rill_model_param(m, 3, &param) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_find_param(m, "gain") == 0 && rill_model_find_param(m, "nope") == -1);
    CHECK(rill_model_find_param(NULL, "gain") == -1);
    CHECK(rill_model_node_count(m) == 2 && rill_model_node_count(NULL) == 0);
    rill_node_info_init(&node);
    CHECK(rill_model_node(m, 0, &node) == RILL_OK && strcmp(node.op, "conv1d") == 0);
    CHECK(rill_model_node(m, 9, &node) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_node(NULL, 0, &node) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_node(m, 0, NULL) == RILL_ERR_INVALID_ARGUMENT);
    node.struct_size = 0;
    CHECK(rill_model_node(m, 0, &node) == RILL_ERR_INVALID_ARGUMENT);
    { /* an older, smaller node struct: struct_size + name only */
        struct {
            uint32_t struct_size;
            const char* name;
            uint32_t canary;
        } small_node;
        small_node.struct_size = (uint32_t)(offsetof(rill_node_info, name) + sizeof(const char*));
        small_node.canary = 0xdeadbeefu;
        CHECK(rill_model_node(m, 0, (rill_node_info*)(void*)&small_node) == RILL_OK);
        CHECK(small_node.name != NULL && strcmp(small_node.name, "c") == 0);
        CHECK(small_node.canary == 0xdeadbeefu);
    }
    CHECK(rill_model_input(NULL, 0, &port) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_input(m, 0, NULL) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_output(m, 1, &port) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_output(NULL, 0, &port) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_param(NULL, 0, &param) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_param(m, 0, NULL) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_find_param(m, NULL) == -1);
    info.struct_size = 0;
    CHECK(rill_model_info_get(m, &info) == RILL_ERR_INVALID_ARGUMENT);
    rill_model_info_init(&info);

    /* Bad configs. */
    CHECK(rill_stream_create(NULL, NULL, &s) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_create(m, NULL, NULL) == RILL_ERR_INVALID_ARGUMENT);
    rill_stream_config_init(&cfg);
    cfg.struct_size = 3;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_INVALID_ARGUMENT && s == NULL);
    rill_stream_config_init(&cfg);
    cfg.sample_rate = 44100;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_UNSUPPORTED);
    CHECK(strstr(rill_last_error_detail(), "16000") != NULL);
    rill_stream_config_init(&cfg);
    cfg.nonfinite_policy = 9;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_INVALID_ARGUMENT);
    rill_stream_config_init(&cfg);
    cfg.flags = 1;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_INVALID_ARGUMENT);
    rill_stream_config_init(&cfg);
    cfg.max_block_frames = 0xffffffffu;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_INVALID_ARGUMENT);
    rill_stream_config_init(&cfg);
    cfg.sample_rate = NAN;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_ERR_INVALID_ARGUMENT);

    /* An older, smaller config struct still works (defaults for the fields it lacks). */
    old.struct_size = sizeof old;
    old.sample_rate = 0;
    CHECK(rill_stream_create(m, (const rill_stream_config*)&old, &s) == RILL_OK);
    in[0] = in_buf;
    out[0] = out_buf;
    memset(in_buf, 0, sizeof in_buf);
    CHECK(rill_stream_process(s, in, out, 4096) == RILL_OK); /* default max block */
    CHECK(rill_stream_process(s, in, out, 4097) == RILL_ERR_BLOCK_TOO_LARGE);
    rill_stream_destroy(s);

    rill_stream_config_init(&cfg);
    cfg.max_block_frames = 512;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_OK);
    rill_model_release(m); /* the stream keeps its own reference */
    latency = rill_stream_latency_frames(s);
    CHECK(latency == 2);
    CHECK(rill_stream_latency_frames(NULL) == 0);
    CHECK(rill_stream_memory_bytes(s) > 0 && rill_stream_memory_bytes(NULL) == 0);

    /* Process misuse. */
    CHECK(rill_stream_process(NULL, in, out, 16) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, NULL, out, 16) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, in, NULL, 16) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, null_in, out, 16) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, in, null_out, 16) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, null_in, out, 0xffffffffu) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_process(s, in, out, 0) == RILL_OK);
    for (i = 0; i < 600; ++i)
        out_buf[i] = 5.0f;
    CHECK(rill_stream_process(s, in, out, 513) == RILL_ERR_BLOCK_TOO_LARGE);
    CHECK(out_buf[0] == 0.0f && out_buf[511] == 0.0f); /* silenced on error */

    /* Normal use: an impulse comes out at the latency, scaled by the gain. */
    CHECK(rill_stream_set_param(s, 0, 0.5f) == RILL_OK);
    CHECK(rill_stream_get_param(s, 0, &value) == RILL_OK && value == 0.5f);
    CHECK(rill_stream_set_param(s, 1, 0.5f) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_set_param(s, 0, NAN) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_set_param(NULL, 0, 1.0f) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_get_param(s, 0, NULL) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_get_param(s, 1, &value) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_get_param(NULL, 0, &value) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_set_param(s, 0, INFINITY) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_set_param(s, 0, 100.0f) == RILL_OK); /* clamped to max */
    CHECK(rill_stream_get_param(s, 0, &value) == RILL_OK && value == 2.0f);
    CHECK(rill_stream_set_param(s, 0, 0.5f) == RILL_OK);
    CHECK(rill_stream_reset(s) == RILL_OK);
    CHECK(rill_stream_reset(NULL) == RILL_ERR_INVALID_ARGUMENT);
    in_buf[0] = 1.0f;
    CHECK(rill_stream_process(s, in, out, 64) == RILL_OK);
    CHECK(out_buf[latency] == 0.5f && out_buf[0] == 0.0f && out_buf[latency + 1] == 0.0f);
    in_buf[0] = 0.0f;

    /* NaN input under the default policy: replaced, state stays clean. */
    in_buf[3] = NAN;
    CHECK(rill_stream_process(s, in, out, 16) == RILL_NONFINITE_REPLACED);
    in_buf[3] = 0.0f;
    CHECK(rill_stream_process(s, in, out, 16) == RILL_OK);
    for (i = 0; i < 16; ++i)
        CHECK(isfinite(out_buf[i]));

    /* State. */
    state_size = rill_stream_state_size(s);
    CHECK(state_size > 0 && rill_stream_state_size(NULL) == 0);
    state = (unsigned char*)malloc(state_size);
    CHECK(rill_stream_state_get(s, state, state_size - 1) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_state_get(s, state, state_size) == RILL_OK);
    CHECK(rill_stream_state_set(s, state, state_size - 1) == RILL_ERR_STATE_MISMATCH);
    state[0] ^= 0xff;
    CHECK(rill_stream_state_set(s, state, state_size) == RILL_ERR_STATE_MISMATCH);
    state[0] ^= 0xff;
    CHECK(rill_stream_state_set(s, state, state_size) == RILL_OK);
    CHECK(rill_stream_state_set(NULL, state, state_size) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_state_set(s, NULL, state_size) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_state_get(s, NULL, state_size) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_state_get(NULL, state, state_size) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_stream_state_set(s, state, 0) == RILL_ERR_STATE_MISMATCH);
    free(state);

    rill_stream_destroy(s);
    rill_stream_destroy(NULL);
    rill_model_release(NULL);
    rill_model_retain(NULL);
}

/* tiny.rill (make_models.py): conv1d 1->2 (k 3, padding [1, 1]) + relu + linear 2->1 + gain. */
static const float TINY_CONV_W[2][3] = {{0.5f, -0.25f, 1.0f}, {-0.75f, 0.5f, 0.25f}};
static const float TINY_CONV_B[2] = {0.1f, -0.05f};
static const float TINY_LIN_W[2] = {1.5f, -0.5f};
static const float TINY_LIN_B = 0.02f;
#define TINY_LATENCY 1
#define TINY_N 2000

/* The offline model: y[t] = gain * (b + sum_o lw[o] relu(cb[o] + sum_j w[o][j] x[t + j - 1])). */
static void tiny_offline(const float* x, float* y, int n, float gain) {
    int t, o, j;
    for (t = 0; t < n; ++t) {
        double acc = TINY_LIN_B;
        for (o = 0; o < 2; ++o) {
            double h = TINY_CONV_B[o];
            for (j = 0; j < 3; ++j) {
                const int k = t + j - 1;
                if (k >= 0 && k < n)
                    h += TINY_CONV_W[o][j] * x[k];
            }
            acc += TINY_LIN_W[o] * (h > 0 ? h : 0);
        }
        y[t] = (float)(gain * acc);
    }
}

/* Streams x followed by TINY_LATENCY zeros in the given block sizes (cycled), writes y aligned
 * with x. Returns 0 on any error status. */
static int tiny_stream(rill_stream* s, const float* x, float* y, const uint32_t* blocks,
                       int num_blocks) {
    static float padded[TINY_N + TINY_LATENCY], raw[TINY_N + TINY_LATENCY];
    const int total = TINY_N + TINY_LATENCY;
    int pos = 0, b = 0;
    memcpy(padded, x, sizeof(float) * TINY_N);
    memset(padded + TINY_N, 0, sizeof(float) * TINY_LATENCY);
    while (pos < total) {
        uint32_t n = blocks[b++ % num_blocks];
        const float* in[1];
        float* out[1];
        if (n > (uint32_t)(total - pos))
            n = (uint32_t)(total - pos);
        in[0] = padded + pos;
        out[0] = raw + pos;
        if (rill_stream_process(s, in, out, n) != RILL_OK)
            return 0;
        pos += (int)n;
    }
    memcpy(y, raw + TINY_LATENCY, sizeof(float) * TINY_N);
    return 1;
}

static float max_abs_diff(const float* a, const float* b, int n) {
    float m = 0;
    int i;
    for (i = 0; i < n; ++i) {
        const float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) /* NaN counts as infinitely different */
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static void test_tiny(const char* path) {
    static float x[TINY_N], want[TINY_N], got[TINY_N], again[TINY_N];
    static const uint32_t sizes[][6] = {{1}, {7}, {64}, {480}, {513}, {1024},
                                        {1, 7, 64, 480, 513, 3}, {100, 1, 1000, 13, 512, 2}};
    static const int counts[] = {1, 1, 1, 1, 1, 1, 6, 6};
    const uint32_t one_block[1] = {256};
    rill_model* m = NULL;
    rill_stream* s = NULL;
    rill_stream_config cfg;
    rill_model_info info;
    unsigned char* state;
    size_t state_size;
    unsigned k;
    int i;

    CHECK(rill_model_load(path, NULL, &m) == RILL_OK);
    if (!m)
        return;
    rill_model_info_init(&info);
    CHECK(rill_model_info_get(m, &info) == RILL_OK);
    CHECK(info.latency_frames == TINY_LATENCY && info.num_params == 1 && info.sample_rate == 16000);
    CHECK(rill_model_node_count(m) == 4);
    CHECK(strcmp(info.source, "tests/c_api/make_models.py") == 0);
    rill_stream_config_init(&cfg);
    cfg.max_block_frames = 1024;
    CHECK(rill_stream_create(m, &cfg, &s) == RILL_OK);
    if (!s) {
        rill_model_release(m);
        return;
    }
    CHECK(rill_stream_latency_frames(s) == TINY_LATENCY);

    srand(11);
    for (i = 0; i < TINY_N; ++i)
        x[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    tiny_offline(x, want, TINY_N, 1.0f);

    /* Streaming equals offline shifted by the latency, for every block size and sequence. */
    for (k = 0; k < sizeof counts / sizeof counts[0]; ++k) {
        CHECK(rill_stream_reset(s) == RILL_OK);
        CHECK(tiny_stream(s, x, got, sizes[k], counts[k]));
        if (max_abs_diff(got, want, TINY_N) > 1e-5f) {
            fprintf(stderr, "tiny: block sequence %u differs from offline by %g\n", k,
                    (double)max_abs_diff(got, want, TINY_N));
            ++failures;
        }
    }

    /* Reset restores the initial behaviour (the run above left state behind). */
    CHECK(rill_stream_reset(s) == RILL_OK);
    CHECK(tiny_stream(s, x, again, one_block, 1));
    CHECK(max_abs_diff(again, want, TINY_N) <= 1e-5f);

    /* A parameter scales the output from the next block on; reset keeps it. */
    CHECK(rill_stream_set_param(s, 0, 0.25f) == RILL_OK);
    CHECK(rill_stream_reset(s) == RILL_OK);
    CHECK(tiny_stream(s, x, got, one_block, 1));
    tiny_offline(x, want, TINY_N, 0.25f);
    CHECK(max_abs_diff(got, want, TINY_N) <= 1e-5f);
    CHECK(rill_stream_set_param(s, 0, 1.0f) == RILL_OK);

    /* State round trip: snapshot mid-signal, go on, restore, go on again: same output. */
    state_size = rill_stream_state_size(s);
    state = (unsigned char*)malloc(state_size ? state_size : 1);
    {
        static float a[512], b[512];
        const float* in[1];
        float* out[1];
        CHECK(rill_stream_reset(s) == RILL_OK);
        in[0] = x;
        out[0] = a;
        CHECK(rill_stream_process(s, in, out, 300) == RILL_OK);
        CHECK(rill_stream_state_get(s, state, state_size) == RILL_OK);
        in[0] = x + 300;
        CHECK(rill_stream_process(s, in, out, 512) == RILL_OK);
        CHECK(rill_stream_reset(s) == RILL_OK); /* forget everything, then restore */
        CHECK(rill_stream_state_set(s, state, state_size) == RILL_OK);
        out[0] = b;
        CHECK(rill_stream_process(s, in, out, 512) == RILL_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    free(state);

    /* A second stream of the same model is independent of the first. */
    {
        rill_stream* s2 = NULL;
        CHECK(rill_stream_create(m, &cfg, &s2) == RILL_OK);
        tiny_offline(x, want, TINY_N, 1.0f);
        CHECK(tiny_stream(s2, x, again, one_block, 1)); /* s still holds mid-signal state */
        CHECK(max_abs_diff(again, want, TINY_N) <= 1e-5f);
        rill_stream_destroy(s2);
    }
    rill_stream_destroy(s);
    rill_model_release(m);
}

static void test_stereo(const char* path) {
    rill_model* m = NULL;
    rill_stream* s = NULL;
    float l[32], r[32], ol[32], or_[32];
    const float* in[2];
    float* out[2];
    int i;
    CHECK(rill_model_load(path, NULL, &m) == RILL_OK);
    CHECK(rill_stream_create(m, NULL, &s) == RILL_OK);
    for (i = 0; i < 32; ++i) {
        l[i] = (float)i;
        r[i] = (float)(32 - i);
    }
    in[0] = l;
    in[1] = r;
    out[0] = ol;
    out[1] = or_;
    CHECK(rill_stream_process(s, in, out, 32) == RILL_OK);
    /* in-place processing is allowed channel by channel */
    out[0] = l;
    out[1] = r;
    CHECK(rill_stream_process(s, in, out, 32) == RILL_OK);
    rill_stream_destroy(s);
    rill_model_release(m);
}

/* rill_model_save writes a file that loads as the same model (same info, same output). */
static void test_save(const char* path) {
    rill_model *m = NULL, *again = NULL;
    rill_model_info a, b;
    char saved[4096];
    float x[64], y1[64], y2[64];
    const float* in[1];
    float* out[1];
    rill_stream *s1 = NULL, *s2 = NULL;
    int i;
    snprintf(saved, sizeof saved, "%s.saved.rill", path);
    CHECK(rill_model_load(path, NULL, &m) == RILL_OK);
    CHECK(rill_model_save(NULL, saved) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_save(m, NULL) == RILL_ERR_INVALID_ARGUMENT);
    CHECK(rill_model_save(m, "/nonexistent-dir/x.rill") == RILL_ERR_IO);
    CHECK(rill_model_save(m, saved) == RILL_OK);
    CHECK(rill_model_load(saved, NULL, &again) == RILL_OK);
    rill_model_info_init(&a);
    rill_model_info_init(&b);
    CHECK(rill_model_info_get(m, &a) == RILL_OK);
    CHECK(rill_model_info_get(again, &b) == RILL_OK);
    CHECK(a.latency_frames == b.latency_frames && a.num_weights == b.num_weights &&
          a.input_channels == b.input_channels && a.output_channels == b.output_channels);
    for (i = 0; i < 64; ++i)
        x[i] = (float)sin(0.1 * i);
    in[0] = x;
    CHECK(rill_stream_create(m, NULL, &s1) == RILL_OK);
    CHECK(rill_stream_create(again, NULL, &s2) == RILL_OK);
    out[0] = y1;
    CHECK(rill_stream_process(s1, in, out, 64) == RILL_OK);
    out[0] = y2;
    CHECK(rill_stream_process(s2, in, out, 64) == RILL_OK);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    rill_stream_destroy(s1);
    rill_stream_destroy(s2);
    rill_model_release(again);
    rill_model_release(m);
    remove(saved);
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_c_api GAIN_MODEL TINY_MODEL STEREO_MODEL\n");
        return 2;
    }
    test_version_and_status();
    test_load_misuse(argv[1]);
    test_load_misuse(argv[2]);
    test_stream(argv[1]);
    test_tiny(argv[2]);
    test_stereo(argv[3]);
    test_save(argv[2]);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("c_api: all checks passed\n");
    return failures ? 1 : 0;
}
