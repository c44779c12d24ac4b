/*
 * rill.h - the Rill C ABI (pure C99).
 *
 * Rill runs neural networks on live signals buffer by buffer, with fixed memory and a hard
 * real-time contract. This header is the reference documentation of the library.
 *
 * Objects
 *   rill_model   immutable graph + weights. Loaded once, shared read-only by any number of
 *                streams and threads. Reference counted (rill_model_retain / _release).
 *   rill_stream  all mutable state for ONE live signal: caches, recurrent states, FIFOs, delay
 *                lines, scratch. All of its memory is taken at rill_stream_create. A stream is
 *                used by one thread at a time (it is not locked).
 *
 * Conventions
 *   - Every function returns a rill_status (0 = OK, negative = error, positive = success with a
 *     remark) unless stated otherwise. No function aborts, throws or crashes on bad input.
 *   - Non-real-time calls leave a human readable explanation of the last error of the calling
 *     thread in rill_last_error_detail(). Real-time calls never write it (they only return codes).
 *   - Public structs start with `uint32_t struct_size` and are filled by their rill_*_init
 *     function; new fields are only ever appended, so a program built against an older, smaller
 *     struct keeps working.
 *   - Audio is planar float32: `in[c]` points at `frames` samples of channel c. When a model has
 *     several inputs (or outputs), their channels are concatenated in the order of the model's
 *     inputs (outputs).
 *
 * Threads: "any thread" means any thread, concurrently with other calls on OTHER objects.
 * "RT-safe" means: no allocation, free, lock, blocking, logging, exception or system call, and a
 * cost bounded and proportional to the frames given.
 */
#ifndef RILL_H
#define RILL_H

#include <stddef.h>
#include <stdint.h>

#include "rill/rill_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RILL_API __declspec(dllimport)
#elif defined(__GNUC__)
#define RILL_API __attribute__((visibility("default")))
#else
#define RILL_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------- */
typedef int32_t rill_status;

#define RILL_OK 0
/* Positive: success with a remark. */
#define RILL_NONFINITE_REPLACED 1 /* non-finite samples were replaced by 0 (policy ZERO) */
/* Negative: errors. Nothing was changed unless the function's comment says otherwise. */
#define RILL_ERR_INVALID_ARGUMENT (-1) /* NULL handle/pointer, bad value, struct_size too small */
#define RILL_ERR_IO (-2)               /* file cannot be opened or read */
#define RILL_ERR_FORMAT (-3)           /* malformed model file (detail names the field) */
#define RILL_ERR_UNSUPPORTED (-4)      /* valid file, but uses something this build lacks */
#define RILL_ERR_OUT_OF_MEMORY (-5)
#define RILL_ERR_BLOCK_TOO_LARGE (-6)  /* frames > max_block_frames of the stream */
#define RILL_ERR_NONFINITE_INPUT (-7)  /* policy REJECT: input had NaN/Inf; nothing processed */
#define RILL_ERR_STATE_MISMATCH (-8)   /* state blob from another model or a corrupted blob */
#define RILL_ERR_INTERNAL (-9)         /* a bug: please report with rill_last_error_detail() */

/* Static, never NULL, English name of a status code. Any thread, RT-safe. */
RILL_API const char* rill_status_string(rill_status status);

/* Explanation of the last error of a non-real-time call on the calling thread ("" if none).
 * The string is owned by the library and valid until the next Rill call on this thread. */
RILL_API const char* rill_last_error_detail(void);

/* RILL_VERSION_NUMBER of the library actually loaded (major*10000 + minor*100 + patch). */
RILL_API uint32_t rill_version_number(void);
/* "major.minor.patch", static. */
RILL_API const char* rill_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------- */
typedef struct rill_model rill_model;
typedef struct rill_stream rill_stream;

typedef struct rill_load_options {
    uint32_t struct_size;
    uint32_t flags; /* reserved, 0 */
    /* Since 0.2: options for files imported on load (ONNX), a JSON object as text, or NULL for
     * defaults. Keys: sample_rate, frontend ("stft" | "window" | "frames"), n_fft, hop,
     * window_size, window, bind {input: value(s)}, dims {symbolic dim: size},
     * shapes {input: [dims]}, state {input: output feeding it on the next frame}. See
     * docs/onnx.md. Must be NULL for .rill files. Read during the call only. */
    const char* import_options;
} rill_load_options;

/* Fills defaults. Any thread. */
RILL_API void rill_load_options_init(rill_load_options* opts);

/* Loads and validates a model file: .rill, or a file imported on load (ONNX .onnx models, rwkv.cpp
 * files), detected from its first bytes. opts may be NULL (defaults). On success *out holds a
 * model with one reference; release it with rill_model_release. On error *out is set to NULL.
 * Any thread; allocates; not RT-safe. */
RILL_API rill_status rill_model_load(const char* path, const rill_load_options* opts,
                                     rill_model** out);

/* Same from memory. The bytes are copied; the caller keeps ownership of `data`. */
RILL_API rill_status rill_model_load_memory(const void* data, size_t size,
                                            const rill_load_options* opts, rill_model** out);

/* Writes the model as a .rill file (docs/format.md): how a model imported on load (ONNX, TFLite,
 * rwkv.cpp) is converted once. Any thread; allocates; not RT-safe. */
RILL_API rill_status rill_model_save(const rill_model* model, const char* path);

/* Reference counting; thread-safe. Release of the last reference frees the model (a stream holds
 * its own reference, so a model may be released while streams still use it). NULL is ignored. */
RILL_API void rill_model_retain(rill_model* model);
RILL_API void rill_model_release(rill_model* model);

#define RILL_KIND_AUDIO 0
#define RILL_KIND_FRAMES 1 /* a feature/frame signal (e.g. probabilities per hop) */
#define RILL_KIND_IMAGE 2  /* since 0.2: one video frame per stream frame, planar float; channels =
                              planes * height * width (rill_model_input_image gives the geometry);
                              sample_rate is the nominal frame rate. rill_stream_process_image
                              converts pixels to and from it. */

typedef struct rill_port_info {
    const char* name;      /* owned by the model */
    uint32_t kind;         /* RILL_KIND_* */
    uint32_t channels;
    double sample_rate;    /* Hz of this port's frames */
} rill_port_info;

typedef struct rill_param_info {
    const char* name; /* owned by the model */
    const char* unit; /* owned by the model, "" if none */
    float min_value;
    float max_value;
    float default_value;
} rill_param_info;

typedef struct rill_model_info {
    uint32_t struct_size;
    uint32_t num_inputs;
    uint32_t num_outputs;
    uint32_t num_params;
    uint32_t input_channels;  /* sum over inputs */
    uint32_t output_channels; /* sum over outputs */
    double sample_rate;       /* the model's own input sample rate */
    uint32_t latency_frames;  /* at the model rate, for the default stream config */
    uint32_t hop_frames;      /* the model's internal hop (input FIFO granularity) */
    uint64_t num_weights;     /* number of scalar weights */
    const char* description;  /* owned by the model, "" if none */
    const char* license;
    const char* source;
} rill_model_info;

RILL_API void rill_model_info_init(rill_model_info* info);
/* Any thread; does not allocate. */
RILL_API rill_status rill_model_info_get(const rill_model* model, rill_model_info* info);
/* index < num_inputs / num_outputs / num_params. Pointers stay valid while the model lives. */
RILL_API rill_status rill_model_input(const rill_model* model, uint32_t index, rill_port_info* out);
RILL_API rill_status rill_model_output(const rill_model* model, uint32_t index,
                                      rill_port_info* out);
RILL_API rill_status rill_model_param(const rill_model* model, uint32_t index,
                                     rill_param_info* out);
/* Since 0.2: the geometry of an image port (RILL_KIND_IMAGE). */
typedef struct rill_image_info {
    uint32_t struct_size;
    uint32_t width;
    uint32_t height;
    uint32_t planes; /* 3 for an RGB input, 1 for a mask or probability output */
} rill_image_info;

RILL_API void rill_image_info_init(rill_image_info* info);
/* RILL_ERR_INVALID_ARGUMENT when the port is not an image port. Any thread; does not allocate. */
RILL_API rill_status rill_model_input_image(const rill_model* model, uint32_t index,
                                            rill_image_info* out);
RILL_API rill_status rill_model_output_image(const rill_model* model, uint32_t index,
                                             rill_image_info* out);

/* Index of a parameter by name, or -1. */
RILL_API int32_t rill_model_find_param(const rill_model* model, const char* name);

/* The planned graph, in execution order: the model's nodes plus the delay lines the planner
 * inserted to align parallel branches (op "delay", name "align(...)"). */
typedef struct rill_node_info {
    uint32_t struct_size;
    const char* name;      /* owned by the model */
    const char* op;        /* owned by the model */
    uint32_t channels;     /* of the node's first output */
    uint32_t rate_num;     /* output frames per input frame = rate_num / rate_den */
    uint32_t rate_den;
    uint32_t latency;      /* accumulated latency at the output, in frames of the output rate */
} rill_node_info;

RILL_API void rill_node_info_init(rill_node_info* info);
RILL_API uint32_t rill_model_node_count(const rill_model* model); /* 0 for NULL */
RILL_API rill_status rill_model_node(const rill_model* model, uint32_t index, rill_node_info* out);

/* ---------------------------------------------------------------------------------------------
 * Streams
 * ------------------------------------------------------------------------------------------- */
#define RILL_NONFINITE_ZERO 0   /* replace NaN/Inf input samples by 0, return RILL_NONFINITE_REPLACED */
#define RILL_NONFINITE_REJECT 1 /* return RILL_ERR_NONFINITE_INPUT, output silence, state untouched */
#define RILL_NONFINITE_PASS 2   /* no check (caller guarantees finite input); output is still
                                   sanitised so that NaN never reaches the caller */

typedef struct rill_stream_config {
    uint32_t struct_size;
    double sample_rate;        /* 0 = the model's rate. Other rates: RILL_ERR_UNSUPPORTED */
    uint32_t max_block_frames; /* 0 = 4096. Upper bound of `frames` in rill_stream_process;
                                  streams of models with image ports take 1 (a frame per call) */
    uint32_t nonfinite_policy; /* RILL_NONFINITE_* */
    uint32_t flags;            /* reserved, 0 */
    uint32_t piece_frames;     /* 0 = chosen from the graph's width. A block runs through the graph
                                  in pieces of at most this many input frames (rounded up to the
                                  model's hop), with the same results as one run: smaller pieces
                                  keep intermediate buffers in cache and take less memory */
} rill_stream_config;

RILL_API void rill_stream_config_init(rill_stream_config* config);

/* Creates a stream: plans, takes ALL memory, creates FFT plans. config may be NULL (defaults).
 * Any thread but not the audio thread; allocates. The stream holds a model reference. */
RILL_API rill_status rill_stream_create(rill_model* model, const rill_stream_config* config,
                                        rill_stream** out);
/* Frees the stream. NULL is ignored. Not RT-safe (frees memory). */
RILL_API void rill_stream_destroy(rill_stream* stream);

/* Processes `frames` (1 .. max_block_frames, any number, varying between calls) frames:
 * in[c] for c < input_channels, out[c] for c < output_channels, each `frames` long. Output is
 * the model's output delayed by rill_stream_latency_frames. in and out may alias channel by
 * channel. RT-safe, no allocation. On error, out is filled with silence when out is usable. */
RILL_API rill_status rill_stream_process(rill_stream* stream, const float* const* in,
                                         float* const* out, uint32_t frames);

/* Since 0.2: pixel layouts of rill_image. 8-bit values map to [0, 1] (v / 255); float pixels are
 * taken as they are. A 1-plane port reads the luma of colour pixels (0.299 R + 0.587 G +
 * 0.114 B); a 3-plane port reads gray pixels as R = G = B. Outputs are written clamped to [0, 1]
 * for 8-bit layouts (round(v * 255)), unclamped for float layouts; a 1-plane output written to a
 * colour layout fills R, G and B (alpha 255). */
#define RILL_PIXEL_RGB8 0
#define RILL_PIXEL_BGR8 1
#define RILL_PIXEL_RGBA8 2
#define RILL_PIXEL_BGRA8 3
#define RILL_PIXEL_GRAY8 4
#define RILL_PIXEL_GRAY_F32 5 /* one float per pixel */
#define RILL_PIXEL_RGB_F32 6  /* three interleaved floats per pixel */

/* One video frame in caller memory. Any size: the frame is resampled (bilinear, pixel centres
 * aligned, the whole frame stretched) to the port's width and height, and an output is resampled
 * from the port's size to the image's. */
typedef struct rill_image {
    uint32_t struct_size;
    uint32_t width;
    uint32_t height;
    uint32_t stride;       /* bytes from one row to the next; 0 = rows packed (float layouts:
                              a multiple of 4, and data 4-byte aligned) */
    uint32_t pixel_format; /* RILL_PIXEL_* */
    void* data;            /* read for inputs, written for outputs; owned by the caller */
} rill_image;

RILL_API void rill_image_init(rill_image* image);

/* Since 0.2: processes one video frame through a stream whose ports are all image ports:
 * in[i] for each input port, out[j] for each output port (out[j] may be NULL to skip that
 * output). Pixels convert to and from ports of 1 plane (gray, a mask) or 3 planes (RGB); an
 * input port or a requested output port with another number of planes (e.g. a 2-class map:
 * pass NULL for it, or import with "mask_plane") gives RILL_ERR_INVALID_ARGUMENT. The model's own
 * normalisation (mean, scale) is part of its graph. Checks every
 * descriptor before touching state: a NULL or malformed image, a stride shorter than a row, a
 * size above 16384 x 16384 or an unknown pixel format gives RILL_ERR_INVALID_ARGUMENT with the
 * stream unchanged. RT-safe: no allocation (conversion buffers are taken at stream creation);
 * cost proportional to the port and image sizes. */
RILL_API rill_status rill_stream_process_image(rill_stream* stream, const rill_image* const* in,
                                               const rill_image* const* out);

/* Sets a model parameter (clamped to [min, max]); takes effect at the next process call.
 * Non-finite value: RILL_ERR_INVALID_ARGUMENT. RT-safe. */
RILL_API rill_status rill_stream_set_param(rill_stream* stream, uint32_t index, float value);
RILL_API rill_status rill_stream_get_param(const rill_stream* stream, uint32_t index, float* value);

/* Back to the state right after creation (parameters keep their values). RT-safe. */
RILL_API rill_status rill_stream_reset(rill_stream* stream);

/* Total latency in frames at the stream's rate: an impulse at input frame 0 appears at output
 * frame latency. Any thread, RT-safe. Returns 0 for NULL. */
RILL_API uint32_t rill_stream_latency_frames(const rill_stream* stream);

/* Bytes of arena memory held by the stream (state + scratch). 0 for NULL. */
RILL_API size_t rill_stream_memory_bytes(const rill_stream* stream);

/* State snapshot: an opaque blob valid for streams of the same model and config.
 * state_get/state_set are RT-safe (memcpy only). state_set validates the blob and returns
 * RILL_ERR_STATE_MISMATCH without changing anything when it does not fit. */
RILL_API size_t rill_stream_state_size(const rill_stream* stream);
RILL_API rill_status rill_stream_state_get(const rill_stream* stream, void* buffer, size_t size);
RILL_API rill_status rill_stream_state_set(rill_stream* stream, const void* buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* RILL_H */
