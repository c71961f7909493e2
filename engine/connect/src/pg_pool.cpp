#include "stacklens/connect/pg_pool.h"

namespace stacklens::connect {

PgPool::PgPool(PgSettings settings, Setup setup) : settings_(std::move(settings)), setup_(std::move(setup)) {
  settings_.validate();
  for (int i = 0; i < settings_.poolMin; ++i) {
    auto connection = open();
    std::lock_guard lock(mutex_);
    ++open_;
    idle_.push_back(std::move(connection));
  }
}

PgPool::~PgPool() = default;

std::unique_ptr<PgConnection> PgPool::open() {
  auto connection = std::make_unique<PgConnection>(settings_);
  if (setup_) setup_(*connection);
  return connection;
}

PgPool::Lease PgPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + settings_.acquireTimeout;
  while (idle_.empty() && open_ >= settings_.poolMax) {
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= settings_.poolMax)
      throw PgError("no free PostgreSQL connection within " + std::to_string(settings_.acquireTimeout.count()) +
                        " ms (pool of " + std::to_string(settings_.poolMax) + " all in use)",
                    PgError::Kind::kTransient);
  }
  return take(lock);
}

std::optional<PgPool::Lease> PgPool::tryAcquire() {
  std::unique_lock lock(mutex_);
  if (idle_.empty() && open_ >= settings_.poolMax) return std::nullopt;
  return take(lock);
}

// An idle connection, else a new one (the caller has checked that either is possible).
PgPool::Lease PgPool::take(std::unique_lock<std::mutex>& lock) {
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_;  // reserve the slot, then connect without holding the lock
  lock.unlock();
  try {
    return Lease(this, open());
  } catch (...) {
    lock.lock();
    --open_;
    available_.notify_one();
    throw;
  }
}

void PgPool::release(std::unique_ptr<PgConnection> connection) {
  bool reusable = connection->isOpen();
  if (reusable && connection->inTransaction()) {
    try {
      connection->execute("ROLLBACK");
    } catch (const PgError&) {
      reusable = false;
    }
    reusable = reusable && connection->isOpen() && !connection->inTransaction();
  }
  std::lock_guard lock(mutex_);
  if (reusable) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  available_.notify_one();
}

void PgPool::closeIdle() {
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
    available_.notify_all();
  }
  // Closed outside the lock: PQfinish may block on a dead socket.
}

int PgPool::openConnections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

int PgPool::idleConnections() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(idle_.size());
}

PgPool::Lease::Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
    : pool_(pool), connection_(std::move(connection)) {}

PgPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), connection_(std::move(other.connection_)) {
  other.pool_ = nullptr;
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->release(std::move(connection_));
}

}  // namespace stacklens::connect
