#include "observability/health_server.h"

#include <chrono>
#include <httplib.h>
#include <stdexcept>

namespace stacklens::headless {

HealthServer::HealthServer(const MetricsRegistry& metrics, std::function<Readiness()> readiness)
    : metrics_(metrics), readiness_(std::move(readiness)), server_(std::make_unique<httplib::Server>()) {
  // httplib's default also sets SO_REUSEPORT, which would let two services share a port silently.
  server_->set_socket_options([](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    const Readiness state = readiness_();
    response.status = state.ready ? 200 : 503;
    response.set_content(state.detail + "\n", "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

HealthServer::~HealthServer() {
  stop();
}

void HealthServer::start(const std::string& bind, int port) {
  port_ = port == 0 ? server_->bind_to_any_port(bind) : (server_->bind_to_port(bind, port) ? port : -1);
  if (port_ <= 0)
    throw std::runtime_error("cannot listen on " + bind + ":" + std::to_string(port) + " (address in use?)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the loop runs would be lost; wait until it does.
  for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void HealthServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace stacklens::headless
