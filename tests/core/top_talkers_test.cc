// Tests of the top rejected clients and networks (core/top_talkers.h): exact
// counts while everything fits, /24 and /64 grouping, the order, the bound
// on memory with the Space-Saving error, and concurrent recording.
#include "core/top_talkers.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mxs {
namespace {

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

TEST(TopTalkers, ExactCountsAndOrder) {
  TopTalkers t(16);
  for (int i = 0; i < 3; ++i) t.Record(Ip("192.0.2.7"));
  t.Record(Ip("192.0.2.9"));
  t.Record(Ip("198.51.100.1"));
  t.Record(Ip("198.51.100.1"));
  auto clients = t.TopClients(10);
  ASSERT_EQ(clients.size(), 3u);
  EXPECT_EQ(clients[0].key, "192.0.2.7");
  EXPECT_EQ(clients[0].count, 3u);
  EXPECT_EQ(clients[0].error, 0u);
  EXPECT_EQ(clients[1].key, "198.51.100.1");
  EXPECT_EQ(clients[1].count, 2u);
  EXPECT_EQ(clients[2].key, "192.0.2.9");
  EXPECT_EQ(clients[2].count, 1u);
  auto nets = t.TopNetworks(10);
  ASSERT_EQ(nets.size(), 2u);
  EXPECT_EQ(nets[0].key, "192.0.2.0/24");
  EXPECT_EQ(nets[0].count, 4u);
  EXPECT_EQ(nets[1].key, "198.51.100.0/24");
  EXPECT_EQ(nets[1].count, 2u);
  EXPECT_EQ(t.TopClients(1).size(), 1u);
}

TEST(TopTalkers, Ipv6Slash64) {
  TopTalkers t(16);
  t.Record(Ip("2001:db8:1:2::5"));
  t.Record(Ip("2001:db8:1:2:ffff::1"));
  t.Record(Ip("2001:db8:1:3::5"));
  auto nets = t.TopNetworks(10);
  ASSERT_EQ(nets.size(), 2u);
  EXPECT_EQ(nets[0].key, "2001:db8:1:2::/64");
  EXPECT_EQ(nets[0].count, 2u);
  EXPECT_EQ(nets[1].key, "2001:db8:1:3::/64");
  auto clients = t.TopClients(1);
  ASSERT_EQ(clients.size(), 1u);
  // Ties go by address.
  EXPECT_EQ(clients[0].key, "2001:db8:1:2::5");
}

TEST(TopTalkers, BoundedWithSpaceSavingError) {
  // Space-Saving keeps any key seen more often than total/capacity: here
  // 500 > 1500 / 4.
  TopTalkers t(4);
  for (int i = 0; i < 500; ++i) t.Record(Ip("10.0.0.1"));
  for (int n = 0; n < 1000; ++n) {
    t.Record(IpAddress::V4(0x0b000000u + static_cast<uint32_t>(n) * 256));
  }
  auto clients = t.TopClients(100);
  EXPECT_EQ(clients.size(), 4u);
  // The heavy hitter survives the flood of one-off clients, exactly counted.
  EXPECT_EQ(clients[0].key, "10.0.0.1");
  EXPECT_EQ(clients[0].count, 500u);
  EXPECT_EQ(clients[0].error, 0u);
  for (size_t i = 1; i < clients.size(); ++i) {
    // Each newcomer inherited the evicted minimum as its possible error.
    EXPECT_EQ(clients[i].count, clients[i].error + 1);
  }
  t.Clear();
  EXPECT_TRUE(t.TopClients(10).empty());
  EXPECT_TRUE(t.TopNetworks(10).empty());
}

TEST(TopTalkers, ConcurrentRecording) {
  TopTalkers t(64);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&t, w] {
      for (int i = 0; i < 1000; ++i) t.Record(IpAddress::V4(0xc0000200u + (w % 2)));
    });
  }
  for (auto& th : threads) th.join();
  auto clients = t.TopClients(10);
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].count, 2000u);
  EXPECT_EQ(clients[1].count, 2000u);
  auto nets = t.TopNetworks(10);
  ASSERT_EQ(nets.size(), 1u);
  EXPECT_EQ(nets[0].count, 4000u);
}

}  // namespace
}  // namespace mxs
