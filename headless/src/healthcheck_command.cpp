// `stacklens healthcheck`: asks a running service's /healthz (or /readyz), for container
// HEALTHCHECKs and systemd watchdogs without curl in the image.
#include <httplib.h>

#include <cstdlib>
#include <iostream>

#include "commands.h"

namespace stacklens::headless {
namespace {

struct HealthcheckOptions {
  std::string host = "127.0.0.1";
  int port = 8005;
  bool ready = false;
};

}  // namespace

void addHealthcheckCommand(CLI::App& app) {
  auto options = std::make_shared<HealthcheckOptions>();
  CLI::App* sub = app.add_subcommand("healthcheck", "Exit 0 when a service's /healthz (or /readyz) answers 200");
  sub->add_option("--host", options->host, "Service address")->capture_default_str();
  sub->add_option("--port", options->port, "Service HTTP port (8005 ml-service, 8006 predictive-alerter)")
      ->envname("STACKLENS_HTTP_PORT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  sub->add_flag("--ready", options->ready, "Ask /readyz (Kafka and PostgreSQL reachable) instead of /healthz");
  sub->callback([options] {
    httplib::Client client(options->host, options->port);
    client.set_connection_timeout(3);
    client.set_read_timeout(5);
    const std::string path = options->ready ? "/readyz" : "/healthz";
    const auto response = client.Get(path);
    if (!response)
      failCommand("healthcheck", options->host + ":" + std::to_string(options->port) + path + ": " +
                                     httplib::to_string(response.error()),
                  kExitFailure);
    if (response->status != 200)
      failCommand("healthcheck", path + " answered " + std::to_string(response->status) + ": " + response->body,
                  kExitFailure);
    std::cout << path << ": " << response->body;
  });
}

}  // namespace stacklens::headless
