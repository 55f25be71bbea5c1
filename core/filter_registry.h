// filter_registry: every filter type the process knows, by name and by config
// message type. Built-in filters register from their own translation units
// through FilterRegistrar; plugins use the same registry.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/filter.h"

namespace mxs {

class FilterRegistry {
 public:
  static FilterRegistry& Get();
  void Register(std::unique_ptr<FilterConfigFactory> factory);
  const FilterConfigFactory* FindByName(std::string_view name) const;
  const FilterConfigFactory* FindByType(std::string_view full_type_name) const;
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<FilterConfigFactory>> factories_;
};

// The part of FilterConfigFactory that every filter has in common: its
// name, its config message type and the envelope defaults are given to the
// constructor; the filter implements BuildTyped with its own message type.
template <typename ConfigProto>
class TypedFilterConfigFactory : public FilterConfigFactory {
 public:
  TypedFilterConfigFactory(std::string_view name, Action default_action,
                           std::chrono::seconds default_ttl)
      : name_(name), default_action_(default_action), default_ttl_(default_ttl) {}
  std::string_view name() const override { return name_; }
  const google::protobuf::Descriptor* config_type() const override {
    return ConfigProto::descriptor();
  }
  Action default_action() const override { return default_action_; }
  std::chrono::seconds default_ttl() const override { return default_ttl_; }
  std::shared_ptr<const FilterFactory> Build(const google::protobuf::Message& config,
                                             BuildContext& ctx) const final {
    // The registry only hands a message of config_type() here.
    return BuildTyped(static_cast<const ConfigProto&>(config), ctx);
  }

 protected:
  virtual std::shared_ptr<const FilterFactory> BuildTyped(const ConfigProto& config,
                                                          BuildContext& ctx) const = 0;

 private:
  std::string_view name_;
  Action default_action_;
  std::chrono::seconds default_ttl_;
};

// What a built filter factory usually is: fixed traits, and either one
// instance that every session shares (a stateless filter) or a new filter
// per session (one that keeps per-session state).
class FixedFilterFactory : public FilterFactory {
 public:
  FixedFilterFactory(FilterTraits traits, std::function<std::shared_ptr<Filter>()> create)
      : traits_(std::move(traits)), create_(std::move(create)) {}
  FilterTraits traits() const override { return traits_; }
  std::shared_ptr<Filter> Create() const override { return create_(); }

  static std::shared_ptr<const FilterFactory> Shared(FilterTraits traits,
                                                     std::shared_ptr<Filter> instance) {
    return std::make_shared<FixedFilterFactory>(
        std::move(traits), [instance = std::move(instance)] { return instance; });
  }
  // A new F(args...) for every session; the arguments are copied per session.
  template <typename F, typename... Args>
  static std::shared_ptr<const FilterFactory> PerSession(FilterTraits traits, Args... args) {
    return std::make_shared<FixedFilterFactory>(std::move(traits),
                                                [args...] { return std::make_shared<F>(args...); });
  }

 private:
  FilterTraits traits_;
  std::function<std::shared_ptr<Filter>()> create_;
};

// Traits of the deep tests (after the greeting, in the engine; cached).
inline FilterTraits DeepTestTraits() {
  FilterTraits t;
  t.cached = true;
  t.needs_engine = true;
  return t;
}

// Registers T at static-initialisation time: `static FilterRegistrar<MyFactory> r;`.
template <typename T>
class FilterRegistrar {
 public:
  FilterRegistrar() { FilterRegistry::Get().Register(std::make_unique<T>()); }
};

}  // namespace mxs
