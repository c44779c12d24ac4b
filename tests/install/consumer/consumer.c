/* A program outside the project: loads a model with the installed library and processes audio. */
#include <stdio.h>
#include <rill/rill.h>

int main(int argc, char** argv) {
    rill_model* model = NULL;
    rill_stream* stream = NULL;
    float in_buf[256] = {1.0f}, out_buf[256];
    const float* in[1] = {in_buf};
    float* out[1] = {out_buf};
    if (argc < 2 || rill_model_load(argv[1], NULL, &model) != RILL_OK) {
        fprintf(stderr, "load failed: %s\n", rill_last_error_detail());
        return 1;
    }
    if (rill_stream_create(model, NULL, &stream) != RILL_OK ||
        rill_stream_process(stream, in, out, 256) != RILL_OK) {
        fprintf(stderr, "processing failed: %s\n", rill_last_error_detail());
        return 1;
    }
    printf("rill %s: impulse at frame %u -> %g\n", rill_version_string(),
           rill_stream_latency_frames(stream), out_buf[rill_stream_latency_frames(stream)]);
    rill_stream_destroy(stream);
    rill_model_release(model);
    return out_buf[2] == 1.0f ? 0 : 1;
}
