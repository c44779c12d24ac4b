#include "engine/model_loader.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace rill::plugin {
namespace {

std::vector<char> read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw std::runtime_error("the file does not exist or cannot be opened");
    std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
    if (file.bad())
        throw std::runtime_error("the file cannot be read");
    return bytes;
}

std::string file_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const size_t dot = name.rfind('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

} // namespace

ModelLoader::ModelLoader(AudioEngine& engine, Hasher hasher, Listener listener)
    : engine_(engine), hasher_(std::move(hasher)), listener_(std::move(listener)),
      config_(engine.config()) {
    thread_ = std::thread([this] { run(); });
}

ModelLoader::~ModelLoader() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

uint32_t ModelLoader::prepare(const HostConfig& config, const Controls& controls) {
    std::lock_guard<std::mutex> build(build_mutex_);
    rill::Model model;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        config_ = config;
        model = model_;
    }
    std::unique_ptr<ModelRunner> runner;
    std::string error;
    if (model) {
        try {
            runner = std::make_unique<ModelRunner>(model, config);
        } catch (const std::exception& e) {
            error = e.what(); // ran at another rate before: pass through, and say why
        }
    }
    engine_.prepare(config, std::move(runner), controls);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error.empty()) {
        model_ = rill::Model();
        status_.state = ModelStatus::State::failed;
        status_.error = "Cannot run " + status_.path + " at " + std::to_string(config.sample_rate) +
                        " Hz: " + error + ". Audio passes through unprocessed.";
        ++status_.generation;
    }
    status_.latency_frames = engine_.latency_frames();
    status_.host_rate = engine_.config().sample_rate;
    return status_.latency_frames;
}

void ModelLoader::load(const std::string& path, const std::string& expected_hash,
                       bool apply_defaults) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        request_ = Request{path, expected_hash, apply_defaults};
        status_.state = ModelStatus::State::loading;
        status_.path = path;
    }
    wake_.notify_all();
}

void ModelLoader::unload() {
    load("", "", false);
}

ModelStatus ModelLoader::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
}

void ModelLoader::wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return !request_ && !busy_; });
}

void ModelLoader::collect_retired() {
    while (std::unique_ptr<ModelRunner> done = engine_.take_retired())
        done.reset();
}

void ModelLoader::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
        // Wakes for requests, and every 20 ms to free what the audio thread handed back.
        wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_ || request_; });
        if (stop_)
            break;
        std::optional<Request> request = std::move(request_);
        request_.reset();
        busy_ = request.has_value();
        lock.unlock();
        collect_retired();
        if (request)
            handle(*request);
        lock.lock();
        busy_ = false;
        if (!request_)
            idle_.notify_all();
    }
}

void ModelLoader::handle(const Request& request) {
    // The listener runs after the build lock is released: a host may call prepareToPlay from
    // the latency-change notification.
    notify(build_and_offer(request), request.apply_defaults);
}

void ModelLoader::notify(const ModelStatus& status, bool apply_defaults) {
    if (listener_)
        listener_(status, apply_defaults);
}

ModelStatus ModelLoader::build_and_offer(const Request& request) {
    std::lock_guard<std::mutex> build(build_mutex_);
    HostConfig config;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        config = config_;
    }
    ModelStatus next;
    next.path = request.path;
    next.host_rate = config.sample_rate;
    rill::Model model;
    std::unique_ptr<ModelRunner> runner;
    if (request.path.empty()) {
        next.state = ModelStatus::State::empty;
    } else {
        try {
            const std::vector<char> bytes = read_file(request.path);
            next.hash = hasher_ ? hasher_(bytes.data(), bytes.size()) : std::string();
            model = rill::Model::load_memory(bytes.data(), bytes.size());
            runner = std::make_unique<ModelRunner>(model, config);
            const rill_model_info info = model.info();
            next.state = ModelStatus::State::loaded;
            next.name = file_name(request.path);
            next.description = info.description ? info.description : "";
            next.license = info.license ? info.license : "";
            next.source = info.source ? info.source : "";
            next.params = runner->params();
            next.model_rate = static_cast<uint32_t>(info.sample_rate);
            if (!request.expected_hash.empty() && request.expected_hash != next.hash)
                next.warning = "the model file changed since the session was saved";
        } catch (const std::exception& e) {
            model = rill::Model();
            runner.reset();
            next.state = ModelStatus::State::failed;
            next.error = "Cannot load " + request.path + ": " + e.what() +
                         ". Audio passes through unprocessed.";
        }
    }
    if (!runner)
        runner = std::make_unique<ModelRunner>(config);
    next.latency_frames = runner->latency_frames();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        model_ = model;
        next.generation = status_.generation + 1;
        status_ = next;
        // A newer request may already be waiting: keep showing that it loads.
        if (request_) {
            status_.state = ModelStatus::State::loading;
            status_.path = request_->path;
        }
    }
    engine_.offer(std::move(runner)).reset(); // frees a runner the audio thread never took
    return next;
}

} // namespace rill::plugin
