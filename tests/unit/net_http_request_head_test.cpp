#include <doctest/doctest.h>

#include <string>

#include "net/http_request_head.h"

using dmq::net::HttpParseError;
using dmq::net::HttpRequestHead;
using dmq::net::parse_request_head;

namespace {

constexpr uint64_t kMaxBody = 1024;

HttpRequestHead parsed(const std::string& text) {
  auto result = parse_request_head(text, kMaxBody);
  REQUIRE(std::holds_alternative<HttpRequestHead>(result));
  return std::get<HttpRequestHead>(result);
}

int refused_with(const std::string& text) {
  auto result = parse_request_head(text, kMaxBody);
  REQUIRE(std::holds_alternative<HttpParseError>(result));
  return std::get<HttpParseError>(result).status;
}

}  // namespace

TEST_CASE("a request head gives method, decoded path, query, headers and framing") {
  auto head = parsed(
      "POST /v1/topics/a%20b/records?offset=earliest&max_bytes=10&k=a+b%2B HTTP/1.1\r\n"
      "Host: x\r\nContent-Length: 12\r\nX-Empty:\r\nAuthorization:  Bearer t  \r\n\r\n");
  CHECK(head.method == "POST");
  CHECK(head.path == "/v1/topics/a b/records");
  CHECK(head.target == "/v1/topics/a%20b/records?offset=earliest&max_bytes=10&k=a+b%2B");
  REQUIRE(head.query.size() == 3);
  CHECK(head.query[0] == std::pair<std::string, std::string>{"offset", "earliest"});
  CHECK(head.query[2] == std::pair<std::string, std::string>{"k", "a b+"});
  CHECK(head.content_length == 12);
  CHECK(head.keep_alive);
  CHECK(head.headers.size() == 4);
  CHECK(head.headers[3].second == "Bearer t");
  CHECK(head.headers[2].second.empty());
}

TEST_CASE("keep-alive follows the version and the Connection field") {
  CHECK(parsed("GET / HTTP/1.1\r\n\r\n").keep_alive);
  CHECK_FALSE(parsed("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
  CHECK_FALSE(parsed("GET / HTTP/1.0\r\n\r\n").keep_alive);
  CHECK(parsed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  CHECK(parsed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

TEST_CASE("malformed request lines are 400, other versions 505") {
  CHECK(refused_with("GARBAGE\r\n\r\n") == 400);
  CHECK(refused_with("GET  HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET http://x/ HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("G(T / HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTX/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET /a\x01 HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/2.0\r\n\r\n") == 505);
  CHECK(refused_with("\r\n") == 400);
  CHECK(refused_with("") == 400);
}

TEST_CASE("malformed header lines and escapes are 400") {
  CHECK(refused_with("GET / HTTP/1.1\r\nNoColon\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/1.1\nA: b\n\n") == 400);
  CHECK(refused_with("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n") == 400);
  CHECK(refused_with("GET /a%2 HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET /a%zz HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET /a%00 HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused_with("GET /?a=%G0 HTTP/1.1\r\n\r\n") == 400);
}

TEST_CASE("Content-Length must be digits, agree when repeated, and fit the bound") {
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  CHECK(
      parsed("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n").content_length ==
      2);
  CHECK(refused_with("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n") == 413);
  CHECK(refused_with("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411);
  CHECK(refused_with(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nExpect: magic\r\n\r\n") == 417);
}

TEST_CASE("more than kMaxHeaderCount fields is 431") {
  std::string text = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < dmq::net::kMaxHeaderCount; ++i)
    text += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(parsed(text + "\r\n").headers.size() == dmq::net::kMaxHeaderCount);
  CHECK(refused_with(text + "X-More: v\r\n\r\n") == 431);
}
