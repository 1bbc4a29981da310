#include "security/principal_mapping.h"

#include <cctype>

namespace dmq::security {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_front(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  return text;
}

// Reads up to the next unescaped '/', consuming it; "\/" becomes "/", any
// other escape is kept for the regex. False when no '/' ends the part.
bool read_part(std::string_view& text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (text[i + 1] != '/') out->push_back('\\');
      out->push_back(text[++i]);
      continue;
    }
    if (c == '/') {
      text.remove_prefix(i + 1);
      return true;
    }
    out->push_back(c);
  }
  return false;
}

// A '$' in a replacement must start a group number (Java's replaceAll
// refuses anything else); checked once, when the rules are parsed.
bool replacement_ok(const std::string& replacement, size_t groups) {
  for (size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] != '$') continue;
    if (i + 1 >= replacement.size() ||
        !std::isdigit(static_cast<unsigned char>(replacement[i + 1])))
      return false;
    if (static_cast<size_t>(replacement[i + 1] - '0') > groups) return false;
  }
  return true;
}

// Java's group reference: as many digits as still name an existing group.
std::string expand(const std::string& replacement, const std::smatch& match) {
  std::string out;
  for (size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] != '$') {
      out.push_back(replacement[i]);
      continue;
    }
    size_t group = static_cast<size_t>(replacement[++i] - '0');
    while (i + 1 < replacement.size() &&
           std::isdigit(static_cast<unsigned char>(replacement[i + 1]))) {
      const size_t longer = group * 10 + static_cast<size_t>(replacement[i + 1] - '0');
      if (longer >= match.size()) break;
      group = longer;
      ++i;
    }
    out += match[group].str();
  }
  return out;
}

Error bad_rule(size_t index, const std::string& why) {
  return Error{ErrorCode::kInvalidConfig,
               "ssl.principal.mapping.rules: rule " + std::to_string(index + 1) + " " + why};
}

}  // namespace

Result<SslPrincipalMapper> SslPrincipalMapper::parse(std::string_view text) {
  SslPrincipalMapper mapper;
  text = trim_front(text);
  if (text.empty()) {
    mapper.rules_.push_back(Rule{true, {}, {}, 0});
    return mapper;
  }
  constexpr std::string_view kDefault = "DEFAULT";
  constexpr std::string_view kRule = "RULE:";
  for (size_t index = 0;; ++index) {
    text = trim_front(text);
    Rule rule;
    if (text.substr(0, kDefault.size()) == kDefault) {
      rule.is_default = true;
      text.remove_prefix(kDefault.size());
    } else if (text.substr(0, kRule.size()) == kRule) {
      text.remove_prefix(kRule.size());
      std::string pattern;
      if (!read_part(text, &pattern) || !read_part(text, &rule.replacement)) {
        return bad_rule(index, "is not RULE:pattern/replacement/[LU]");
      }
      try {
        rule.pattern = std::regex(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        return bad_rule(index, "has a pattern that is not a valid regular expression");
      }
      if (!replacement_ok(rule.replacement, rule.pattern.mark_count())) {
        return bad_rule(index, "has a '$' that names no group of its pattern");
      }
      if (!text.empty() && (text.front() == 'L' || text.front() == 'U')) {
        rule.case_fold = text.front();
        text.remove_prefix(1);
      }
    } else {
      return bad_rule(index, "is neither DEFAULT nor RULE:pattern/replacement/[LU]");
    }
    mapper.rules_.push_back(std::move(rule));
    text = trim_front(text);
    if (text.empty()) return mapper;
    if (text.front() != ',') return bad_rule(index, "is followed by text that is not ','");
    text.remove_prefix(1);
  }
}

Result<std::string> SslPrincipalMapper::name_of(std::string_view subject) const {
  // std::regex matches recursively: a bound on the subject bounds the stack.
  // Real subjects are far shorter (X.520 caps a CN at 64 characters).
  if (subject.size() > kMaxSubjectBytes) {
    return make_error(
        ErrorCode::kAuthenticationFailed,
        "the certificate's subject is longer than " + std::to_string(kMaxSubjectBytes) + " bytes");
  }
  const std::string dn(subject);
  for (const Rule& rule : rules_) {
    if (rule.is_default) {
      if (dn.empty()) break;
      return dn;
    }
    std::smatch match;
    if (!std::regex_match(dn, match, rule.pattern)) continue;
    std::string name = expand(rule.replacement, match);
    for (char& c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (rule.case_fold == 'L') c = static_cast<char>(std::tolower(u));
      if (rule.case_fold == 'U') c = static_cast<char>(std::toupper(u));
    }
    if (name.empty()) break;
    return name;
  }
  return make_error(ErrorCode::kAuthenticationFailed,
                    "no ssl.principal.mapping.rules rule applies to the certificate's subject");
}

}  // namespace dmq::security
