// A C++17 program outside the project: the installed rill.hpp wrapper over the installed library.
#include <cstdio>
#include <vector>

#include <rill/rill.hpp>

int main(int argc, char** argv) {
    if (argc < 2)
        return 2;
    try {
        rill::Model::load("/nonexistent/model.rill");
        std::fprintf(stderr, "loading a missing file did not throw\n");
        return 1;
    } catch (const rill::Error& e) {
        if (e.status() != RILL_ERR_IO || e.detail().empty())
            return 1;
    }
    const rill::Model model = rill::Model::load(argv[1]);
    const rill::Model shared = model; // one more reference to the same model
    rill::Stream stream(shared, 256);
    if (stream.input_channels() != 1 || stream.output_channels() != 1)
        return 1;
    stream.set_param("gain", 0.5f);
    try {
        stream.set_param("no_such_param", 1.0f);
        return 1;
    } catch (const rill::Error& e) {
        if (e.status() != RILL_ERR_INVALID_ARGUMENT)
            return 1;
    }
    std::vector<std::vector<float>> in(1, std::vector<float>(256)), out(1, std::vector<float>(256));
    in[0][0] = 1.0f;
    const std::vector<unsigned char> fresh = stream.state();
    if (stream.process(in, out) != RILL_OK)
        return 1;
    const uint32_t latency = stream.latency_frames();
    std::printf("rill.hpp %s: %zu params, %zu nodes, impulse at frame %u -> %g\n",
                rill::version_string(), model.params().size(), model.nodes().size(), latency,
                static_cast<double>(out[0][latency]));
    if (out[0][latency] != 0.5f)
        return 1;
    stream.set_state(fresh); // back to the start: the impulse comes out again
    std::vector<const float*> ip{in[0].data()};
    std::vector<float*> op{out[0].data()};
    if (stream.process(ip, op, 256) != RILL_OK || out[0][latency] != 0.5f)
        return 1;
    rill::Stream moved = std::move(stream);
    return moved.reset() == RILL_OK && !stream ? 0 : 1;
}
