#include <doctest/doctest.h>

#include "common/base64.h"
#include "security/sasl_plain.h"
#include "security/scram.h"
#include "security_test_util.h"

using namespace dmq::security;
using dmq::base64_decode;
using dmq::base64_encode;
using dmq::security::test::ScramTestClient;
using dmq::security::test::SeededRandom;

namespace {

ScramCredentialStore store_with(std::string_view user, std::string_view password) {
  ScramCredentialStore store(std::string(32, 'k'));
  SeededRandom random(7);
  for (auto m : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    store.upsert(user, m, make_scram_credential(m, password, 4096, random).value());
  }
  return store;
}

}  // namespace

TEST_CASE("RFC 7677 SCRAM-SHA-256 example: credential, proof and server signature") {
  std::string salt = *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  auto cred = scram_credential_from_password(ScramMechanism::kSha256, "pencil", salt, 4096);
  REQUIRE(cred.ok());
  std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  std::string auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=" + nonce +
                     ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=" + nonce;
  std::string proof = *base64_decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  auto signature = scram_verify_proof(ScramMechanism::kSha256, cred.value(), auth, proof);
  REQUIRE(signature.has_value());
  CHECK(base64_encode(*signature) == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  // The client-final message of the example parses to the same pieces.
  auto fin = parse_scram_client_final("c=biws,r=" + nonce + ",p=" + base64_encode(proof));
  REQUIRE(fin.ok());
  CHECK(fin.value().channel_binding == "n,,");
  CHECK(fin.value().without_proof == "c=biws,r=" + nonce);
  // One flipped proof bit fails.
  proof[0] ^= 1;
  CHECK_FALSE(scram_verify_proof(ScramMechanism::kSha256, cred.value(), auth, proof));
}

TEST_CASE("a full SCRAM exchange succeeds for both mechanisms and answers v=") {
  auto store = store_with("alice", "s3cret");
  for (auto m : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    SeededRandom random(1);
    ScramServer server(m, store, random);
    ScramTestClient client{m, "alice", "s3cret"};
    auto server_first = server.step(client.first());
    REQUIRE(server_first.ok());
    CHECK(server_first.value().starts_with("r=" + client.client_nonce));
    auto server_final = server.step(client.final_message(server_first.value()));
    REQUIRE(server_final.ok());
    CHECK(server_final.value() == client.expected_server_signature);
    CHECK(server.authenticated());
    CHECK(server.username() == "alice");
    CHECK(server.step("again").error().code == ErrorCode::kIllegalState);
  }
}

TEST_CASE("SCRAM refuses a wrong password, with the unknown-user message") {
  auto store = store_with("alice", "s3cret");
  SeededRandom random(2);
  ScramServer server(ScramMechanism::kSha256, store, random);
  ScramTestClient client{ScramMechanism::kSha256, "alice", "wrong"};
  auto first = server.step(client.first());
  REQUIRE(first.ok());
  auto fin = server.step(client.final_message(first.value()));
  REQUIRE_FALSE(fin.ok());
  CHECK(fin.error().code == ErrorCode::kAuthenticationFailed);
  CHECK(fin.error().message.find("wrong") == std::string::npos);
  CHECK_FALSE(server.authenticated());
  CHECK(server.step("x").error().code == ErrorCode::kIllegalState);
}

TEST_CASE("SCRAM: an unknown user gets a stable fake salt and fails like a wrong password") {
  auto store = store_with("alice", "s3cret");
  auto run = [&](std::string user, std::string* server_first) {
    SeededRandom random(3);
    ScramServer server(ScramMechanism::kSha256, store, random);
    ScramTestClient client{ScramMechanism::kSha256, user, "s3cret"};
    auto first = server.step(client.first());
    REQUIRE(first.ok());
    *server_first = first.value();
    return server.step(client.final_message(first.value()));
  };
  std::string a, b, known;
  auto r1 = run("mallory", &a);
  auto r2 = run("mallory", &b);
  run("alice", &known);
  CHECK(a == b);  // same salt and iterations every time
  CHECK(a.find(",i=4096") != std::string::npos);
  REQUIRE_FALSE(r1.ok());
  SeededRandom random(4);
  ScramServer wrong_pw(ScramMechanism::kSha256, store, random);
  ScramTestClient client{ScramMechanism::kSha256, "alice", "bad"};
  auto wrong = wrong_pw.step(client.final_message(wrong_pw.step(client.first()).value()));
  CHECK(r1.error().code == wrong.error().code);
  CHECK(r1.error().message == wrong.error().message);
}

TEST_CASE("SCRAM refuses a forged nonce, a short proof and foreign channel binding data") {
  auto store = store_with("alice", "s3cret");
  SeededRandom random(5);
  ScramServer server(ScramMechanism::kSha256, store, random);
  ScramTestClient client{ScramMechanism::kSha256, "alice", "s3cret"};
  auto first = server.step(client.first()).value();
  std::string good = client.final_message(first);
  std::string nonce = first.substr(2, first.find(',') - 2);
  std::string forged;
  SUBCASE("nonce") {
    forged = client.final_message(first, client.client_nonce + "forged");
  }
  SUBCASE("short proof") {
    forged = "c=biws,r=" + nonce + ",p=" + base64_encode("short");
  }
  SUBCASE("channel binding") {
    forged = "c=" + base64_encode("y,,") + good.substr(6);
  }
  CHECK(server.step(forged).error().code == ErrorCode::kAuthenticationFailed);
  CHECK(server.step(good).error().code == ErrorCode::kIllegalState);
}

TEST_CASE("SCRAM client-first parsing: gs2 header, saslname, extensions") {
  auto ok = parse_scram_client_first("n,,n=a=2Cb=3Dc,r=abc");
  REQUIRE(ok.ok());
  CHECK(ok.value().username == "a,b=c");
  CHECK(ok.value().gs2_header == "n,,");
  CHECK(ok.value().bare == "n=a=2Cb=3Dc,r=abc");
  auto token = parse_scram_client_first("n,,n=u,r=abc,tokenauth=true");
  REQUIRE(token.ok());
  CHECK(token.value().token_auth);
  auto authz = parse_scram_client_first("n,a=u,n=u,r=abc");
  REQUIRE(authz.ok());
  CHECK(authz.value().authzid == "u");
  CHECK(authz.value().gs2_header == "n,a=u,");

  CHECK(parse_scram_client_first("p=tls-unique,,n=u,r=a").error().code ==
        ErrorCode::kUnsupportedMechanism);
  CHECK(parse_scram_client_first("y,,n=u,r=a").error().code == ErrorCode::kUnsupportedMechanism);
  CHECK(parse_scram_client_first("n,,n=u,r=a,ext=1").error().code ==
        ErrorCode::kUnsupportedMechanism);
  CHECK(parse_scram_client_first("n,,m=x,n=u,r=a").error().code ==
        ErrorCode::kUnsupportedMechanism);
  for (const char* bad : {"", "n,,", "n,,n=u", "n,,r=a,n=u", "n,,n=,r=a", "n,,n=u=2X,r=a",
                          "n,,n=u,r=", "n,,n=u,r=a,,", "x,,n=u,r=a", "n,a=u", "n,,n=u,r=a b",
                          "n,,n=u,r=a,tokenauth=true,tokenauth=true"}) {
    CAPTURE(bad);
    CHECK(parse_scram_client_first(bad).error().code == ErrorCode::kMalformed);
  }
  CHECK(parse_scram_client_first("n,,n=" + std::string(5000, 'u') + ",r=a").error().code ==
        ErrorCode::kTooLarge);
}

TEST_CASE("SCRAM refuses an authzid other than the user, and delegation tokens") {
  auto store = store_with("alice", "s3cret");
  SeededRandom random(6);
  ScramServer other(ScramMechanism::kSha256, store, random);
  CHECK(other.step("n,a=admin,n=alice,r=abc").error().code == ErrorCode::kAuthenticationFailed);
  ScramServer token(ScramMechanism::kSha256, store, random);
  CHECK(token.step("n,,n=alice,r=abc,tokenauth=true").error().code ==
        ErrorCode::kAuthenticationFailed);
}

TEST_CASE("SCRAM credential records: derivation bounds and storage text") {
  SeededRandom random(8);
  auto cred = make_scram_credential(ScramMechanism::kSha512, "pw", 8192, random).value();
  CHECK(cred.salt.size() == 32);
  CHECK(cred.stored_key.size() == 64);
  std::string text = encode_scram_credential(cred);
  CHECK(text.find("pw") == std::string::npos);
  CHECK(text.starts_with("salt="));
  CHECK(text.ends_with(",iterations=8192"));
  auto back = decode_scram_credential(ScramMechanism::kSha512, text);
  REQUIRE(back.ok());
  CHECK(back.value() == cred);
  // A SHA-512 record is not a SHA-256 one.
  CHECK(decode_scram_credential(ScramMechanism::kSha256, text).error().code ==
        ErrorCode::kMalformed);
  for (std::string bad : {std::string(""), text + ",x=1", text.substr(1),
                          std::string("salt=,stored_key=,server_key=,iterations=4096")}) {
    CHECK_FALSE(decode_scram_credential(ScramMechanism::kSha512, bad).ok());
  }
  CHECK(make_scram_credential(ScramMechanism::kSha256, "pw", 4095, random).error().code ==
        ErrorCode::kInvalidConfig);
  CHECK(make_scram_credential(ScramMechanism::kSha256, "pw", 16385, random).error().code ==
        ErrorCode::kInvalidConfig);
  CHECK_FALSE(make_scram_credential(ScramMechanism::kSha256, "", 4096, random).ok());
  // AlterUserScramCredentials: the client's salted password gives the same record.
  std::string salted = pbkdf2_hmac(HashAlgorithm::kSha512, "pw", cred.salt, 8192);
  CHECK(scram_credential_from_salted_password(ScramMechanism::kSha512, cred.salt, salted, 8192)
            .value() == cred);
  CHECK(scram_password_matches(ScramMechanism::kSha512, cred, "pw"));
  CHECK_FALSE(scram_password_matches(ScramMechanism::kSha512, cred, "pW"));
}

TEST_CASE("SASL PLAIN parses strictly") {
  auto m = parse_sasl_plain(std::string("\0alice\0pw", 9));
  REQUIRE(m.ok());
  CHECK(m.value().authzid.empty());
  CHECK(m.value().username == "alice");
  CHECK(m.value().password == "pw");
  CHECK(parse_sasl_plain(std::string("alice\0alice\0pw", 14)).value().authzid == "alice");
  for (std::string bad :
       {std::string(""), std::string("alice"), std::string("\0alice", 6),
        std::string("\0alice\0", 7), std::string("\0\0pw", 4), std::string("\0a\0b\0c", 6)}) {
    CHECK(parse_sasl_plain(bad).error().code == ErrorCode::kMalformed);
  }
  CHECK(parse_sasl_plain(std::string(1, '\0') + std::string(256, 'u') + std::string("\0pw", 3))
            .error()
            .code == ErrorCode::kTooLarge);
  CHECK(parse_sasl_plain(std::string(2000, 'x')).error().code == ErrorCode::kTooLarge);
}

TEST_CASE("SASL PLAIN verifies against SCRAM credentials") {
  auto store = store_with("alice", "s3cret");
  auto verify = [&](std::string_view authzid, std::string_view user, std::string_view pw) {
    return verify_sasl_plain(
        store, PlainMessage{std::string(authzid), std::string(user), std::string(pw)});
  };
  CHECK(verify("", "alice", "s3cret").value() == "alice");
  auto wrong = verify("", "alice", "nope");
  auto unknown = verify("", "mallory", "s3cret");
  CHECK(wrong.error().code == ErrorCode::kAuthenticationFailed);
  CHECK(unknown.error().code == ErrorCode::kAuthenticationFailed);
  CHECK(wrong.error().message == unknown.error().message);
  CHECK(verify("bob", "alice", "s3cret").error().code == ErrorCode::kAuthenticationFailed);
  // Only a SHA-256 credential: still verifies.
  ScramCredentialStore only256(std::string(32, 'k'));
  SeededRandom random(9);
  only256.upsert("bob", ScramMechanism::kSha256,
                 make_scram_credential(ScramMechanism::kSha256, "pw", 4096, random).value());
  CHECK(verify_sasl_plain(only256, PlainMessage{"", "bob", "pw"}).ok());
}
