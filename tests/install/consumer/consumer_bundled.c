/* A C99 program outside the project, built with `pkg-config --cflags --libs rill`: loads the
 * bundled model with the installed library, sets its knob, streams one second of a decaying
 * tone through it in 256-frame blocks and checks the output is finite and not silent. */
#include <math.h>
#include <stdio.h>
#include <rill/rill.h>

int main(int argc, char** argv) {
    rill_model* model = NULL;
    rill_stream* stream = NULL;
    rill_model_info info;
    static float in_buf[256], out_buf[256];
    const float* in[1] = {in_buf};
    float* out[1] = {out_buf};
    double energy = 0;
    int block, t, param;
    if (argc < 2 || rill_model_load(argv[1], NULL, &model) != RILL_OK) {
        fprintf(stderr, "load failed: %s\n", rill_last_error_detail());
        return 1;
    }
    rill_model_info_init(&info);
    if (rill_model_info_get(model, &info) != RILL_OK || info.input_channels != 1 ||
        info.output_channels != 1 || rill_stream_create(model, NULL, &stream) != RILL_OK) {
        fprintf(stderr, "unexpected model or stream failure: %s\n", rill_last_error_detail());
        return 1;
    }
    param = rill_model_find_param(model, "drive");
    if (param >= 0)
        rill_stream_set_param(stream, (uint32_t)param, 0.8f);
    for (block = 0; block < (int)(info.sample_rate / 256); ++block) {
        for (t = 0; t < 256; ++t) {
            const double n = block * 256.0 + t;
            in_buf[t] = (float)(0.5 * sin(2 * 3.14159265 * 220 * n / info.sample_rate) *
                                exp(-n / info.sample_rate));
        }
        if (rill_stream_process(stream, in, out, 256) != RILL_OK)
            return 1;
        for (t = 0; t < 256; ++t) {
            if (!isfinite(out_buf[t]))
                return 1;
            energy += out_buf[t] * out_buf[t];
        }
    }
    printf("%s: %u frames of latency, output energy %.3f\n", argv[1],
           rill_stream_latency_frames(stream), energy);
    rill_stream_destroy(stream);
    rill_model_release(model);
    return energy > 1.0 ? 0 : 1;
}
