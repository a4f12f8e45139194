// Decodes one NDJSON line into an event with Boost.JSON's SAX parser.
//
// No DOM is built: Boost 1.81's DOM keeps the last of duplicate keys, and a
// DOM costs an allocation per value. A thread-local parser and handler keep
// their buffers between lines, and an event's strings go straight into the
// caller's batch, so a typical event allocates nothing of its own. The
// handler records the first semantic error and keeps parsing, because a
// syntax error later in the line must still win (`{"x":1,` is invalid_json,
// not unknown_field).
//
// When several rules fail, the reported code follows a fixed precedence:
//   too_large (line) > invalid_json / too_deep > not_an_object
//   > duplicate_field > unknown_field > wrong_type / too_large (id, key)
//   > missing_field > bad_op > not_a_number / overflow
// Within one rank the first failure in input order wins.
//
// Depth counts every object and array that encloses a value: the top-level
// object is depth 1, so `{"id":"a","key":"k","data":{}}` has depth 2. This
// is exactly Boost's parse_options::max_depth.

#include "actors/event_codec.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include <boost/json/basic_parser_impl.hpp>

#include "actors/placement.hpp"
#include "messages/json_text.hpp"

namespace eventide {

namespace {

namespace json = boost::json;

constexpr std::size_t max_id_bytes = 128;
constexpr std::size_t max_key_bytes = 512;

// Above this many members an object's duplicate check switches from a linear
// scan to a hash set, so a 64 KiB line of tiny members stays linear time.
constexpr std::size_t linear_key_scan_limit = 32;

// Member names quoted in a detail are cut to keep error replies short.
constexpr std::size_t max_detail_name_bytes = 64;

/// Rank of a code in the precedence above; smaller wins.
int rank(error_code code) {
  switch (code) {
    case error_code::invalid_json:
    case error_code::too_deep:
      return 1;
    case error_code::not_an_object:
      return 2;
    case error_code::duplicate_field:
      return 3;
    case error_code::unknown_field:
      return 4;
    case error_code::wrong_type:
    case error_code::too_large:
      return 5;
    case error_code::missing_field:
      return 6;
    case error_code::bad_op:
      return 7;
    case error_code::not_a_number:
    case error_code::overflow:
      return 8;
    default:
      return 9;
  }
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_json_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back()))
    s.remove_suffix(1);
  return s;
}

/// Cuts `name` to at most `max_detail_name_bytes` on a UTF-8 boundary, so
/// that the detail stays valid UTF-8.
std::string_view short_name(std::string_view name, bool& cut) {
  cut = name.size() > max_detail_name_bytes;
  if (!cut)
    return name;
  auto n = max_detail_name_bytes;
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80)
    --n;
  return name.substr(0, n);
}

/// Boost already validated the UTF-8 of every string it hands us.
void append_escaped(std::string& out, std::string_view s) {
  append_json_escaped(out, s);
}

/// True when a number token has no fraction or exponent: Boost reports such
/// a token through on_double only when it does not fit in 64 bits.
bool is_integer_token(std::string_view token) {
  return token.find_first_of(".eE") == std::string_view::npos;
}

/// Where the next value goes.
enum class sink : uint8_t {
  root,   // the whole line
  member, // a top-level member, see `member`
  field,  // a member value of `data`
  raw,    // inside a field's array or object: compact JSON text
  skip,   // a value already rejected or unknown: only checked for syntax
};

/// The top-level member whose value comes next.
enum class member : uint8_t { id, key, op, data, ts, ignored };

/// One open object or array.
struct frame {
  sink kind = sink::skip; // what its direct children are
  bool is_object = false;
  bool first = true;          // no child written yet (raw commas)
  std::size_t keys_begin = 0; // its names in key_refs_
  std::unordered_set<std::string> big_keys; // used past the linear limit
};

/// A member name kept for the duplicate check of its object.
struct key_ref {
  std::size_t offset;
  std::size_t size;
};

/// Where the id or key lies in the batch's text.
struct text_ref {
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// SAX handler for basic_parser: appends an event to a batch or finds the
/// best rejection. Strings are written to the batch's text as they arrive;
/// the caller drops them again when the line is rejected.
class event_handler {
public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  /// Forgets the previous line, keeping buffer capacity; the next event
  /// goes to `out`.
  void reset(event_batch& out) {
    out_ = &out;
    fields_begin_ = out.fields.size();
    rec_ = event_record{};
    id_ = key_ = text_ref{};
    depth_ = 0;
    key_chars_.clear();
    key_refs_.clear();
    key_buf_.clear();
    num_buf_.clear();
    in_string_ = false;
    in_number_ = false;
    seen_id_ = seen_key_ = false;
    members_seen_ = 0;
    id_ok_ = false;
    op_ok_ = true;
    code_.reset();
    detail_.clear();
  }

  /// The result once the parser accepted the whole line.
  std::optional<rejection> finish(uint64_t seq) {
    check_required();
    if (code_)
      return reject(seq, *code_, std::move(detail_));
    rec_.seq = seq;
    rec_.id_offset = static_cast<uint32_t>(id_.offset);
    rec_.id_size = static_cast<uint16_t>(id_.size);
    rec_.key_offset = static_cast<uint32_t>(key_.offset);
    rec_.key_size = static_cast<uint16_t>(key_.size);
    rec_.key_hash = stable_key_hash(text(key_));
    rec_.first_field = static_cast<uint32_t>(fields_begin_);
    rec_.field_count = static_cast<uint32_t>(field_count());
    out_->events.push_back(rec_);
    return std::nullopt;
  }

  /// A rejection for a line the parser refused, with the id if it was read.
  rejection reject(uint64_t seq, error_code code, std::string detail) {
    rejection r;
    r.seq = seq;
    if (id_ok_)
      r.id = text(id_);
    r.code = code;
    r.detail = std::move(detail);
    return r;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    open(true);
    return true;
  }

  bool on_object_end(std::size_t, json::error_code&) {
    close('}');
    return true;
  }

  bool on_array_begin(json::error_code&) {
    open(false);
    return true;
  }

  bool on_array_end(std::size_t, json::error_code&) {
    close(']');
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_buf_.append(s.data(), s.size());
    return true;
  }

  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (key_buf_.empty()) {
      on_name({s.data(), s.size()});
    } else {
      key_buf_.append(s.data(), s.size());
      on_name(key_buf_);
      key_buf_.clear();
    }
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    string_piece({s.data(), s.size()});
    return true;
  }

  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    string_piece({s.data(), s.size()});
    string_end();
    return true;
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    if (!in_number_) {
      in_number_ = true;
      num_sink_ = begin_value();
    }
    num_buf_.append(s.data(), s.size());
    return true;
  }

  bool on_int64(int64_t i, json::string_view s, json::error_code&) {
    auto where = number_sink();
    if (where == sink::field)
      set_integer(i);
    else if (where == sink::member && member_ == member::ts && i >= 0)
      set_ts(i);
    else
      other_number(where, {s.data(), s.size()});
    return true;
  }

  bool on_uint64(uint64_t, json::string_view s, json::error_code&) {
    other_number(number_sink(), {s.data(), s.size()});
    return true;
  }

  bool on_double(double d, json::string_view s, json::error_code&) {
    auto where = number_sink();
    if (where == sink::field && !std::isfinite(d))
      not_finite();
    else if (where == sink::field && !token_is_integer(s))
      set_real(d);
    else
      other_number(where, {s.data(), s.size()});
    return true;
  }

  bool on_bool(bool b, json::error_code&) {
    literal(b ? "true" : "false");
    return true;
  }

  bool on_null(json::error_code&) {
    literal("null");
    return true;
  }

  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

private:
  // --- errors ---------------------------------------------------------

  /// Keeps the failure if it outranks the one recorded so far.
  void fail(error_code code, std::initializer_list<std::string_view> parts) {
    if (code_ && rank(*code_) <= rank(code))
      return;
    code_ = code;
    detail_.clear();
    for (auto part : parts)
      detail_.append(part);
  }

  /// Fails with a detail that quotes a (possibly long) member name.
  void fail_named(error_code code, std::string_view before,
                  std::string_view name, std::string_view after) {
    if (code_ && rank(*code_) <= rank(code))
      return;
    bool cut = false;
    auto shown = short_name(name, cut);
    fail(code, {before, shown, cut ? "..." : "", after});
  }

  std::string_view current_field_name() const {
    bool cut = false;
    return short_name(name_of(out_->fields.back()), cut);
  }

  void check_required() {
    if (!seen_id_)
      fail(error_code::missing_field, {"id is required"});
    if (!seen_key_)
      fail(error_code::missing_field, {"key is required"});
    // Only a known op says whether data is needed.
    if (!op_ok_ || rec_.has_data || rec_.op == op_code::del)
      return;
    fail(error_code::missing_field,
         {"data is required for ", rec_.op == op_code::set ? "set" : "incr"});
  }

  /// incr needs numbers; checked at the end since `op` may follow `data`.
  void check_incr_operands() {
    for (auto i = fields_begin_; i < out_->fields.size(); ++i) {
      const auto& f = out_->fields[i];
      // An empty raw value was already rejected as non-finite.
      if (f.kind != value_kind::raw || f.raw_size == 0)
        continue;
      auto c = out_->text[f.name_offset + f.name_size];
      // A raw number is an integer that did not fit in int64.
      bool number = c == '-' || (c >= '0' && c <= '9');
      if (number)
        fail_named(error_code::overflow, "data.", name_of(f),
                   " is outside the int64 range");
      else
        fail_named(error_code::not_a_number, "data.", name_of(f),
                   " must be a number");
      return;
    }
  }

  // --- structure --------------------------------------------------------

  frame& top() { return frames_[depth_ - 1]; }

  void push(sink kind, bool is_object) {
    if (depth_ == frames_.size())
      frames_.emplace_back();
    auto& f = frames_[depth_++];
    f.kind = kind;
    f.is_object = is_object;
    f.first = true;
    f.keys_begin = key_refs_.size();
  }

  void open(bool is_object) {
    auto where = begin_value();
    switch (where) {
      case sink::root:
        if (!is_object)
          fail(error_code::not_an_object, {"event must be a JSON object"});
        return push(is_object ? sink::member : sink::skip, is_object);
      case sink::member:
        return open_member(is_object);
      case sink::field:
        start_raw().push_back(is_object ? '{' : '[');
        return push(sink::raw, is_object);
      case sink::raw:
        raw_out().push_back(is_object ? '{' : '[');
        return push(sink::raw, is_object);
      case sink::skip:
        return push(sink::skip, is_object);
    }
  }

  void open_member(bool is_object) {
    if (member_ == member::data && is_object) {
      rec_.has_data = true;
      return push(sink::field, true);
    }
    wrong_member_type();
    push(sink::skip, is_object);
  }

  void close(char bracket) {
    auto& f = top();
    if (f.is_object)
      forget_keys(f);
    bool raw = f.kind == sink::raw;
    if (f.kind == sink::field)
      end_field();
    --depth_;
    if (raw)
      raw_out().push_back(bracket);
  }

  /// Drops the names of a closed object; they are always the newest.
  void forget_keys(frame& f) {
    if (!f.big_keys.empty())
      f.big_keys.clear();
    if (f.keys_begin == key_refs_.size())
      return;
    key_chars_.resize(key_refs_[f.keys_begin].offset);
    key_refs_.resize(f.keys_begin);
  }

  /// Decides where a value goes and writes a raw array's comma.
  sink begin_value() {
    if (depth_ == 0)
      return sink::root;
    auto& f = top();
    if (f.kind == sink::raw && !f.is_object) {
      if (!f.first)
        raw_out().push_back(',');
      f.first = false;
    }
    return f.kind;
  }

  /// Where a raw value's text goes: the end of the batch's text, right
  /// after the name of the field being written (see end_field).
  std::string& raw_out() { return out_->text; }

  std::string& start_raw() {
    out_->fields.back().kind = value_kind::raw;
    return raw_out();
  }

  /// Seals the field being written: a raw value's size is what the text
  /// grew by after its name.
  void end_field() {
    if (field_count() == 0)
      return;
    auto& f = out_->fields.back();
    if (f.kind == value_kind::raw)
      f.raw_size = static_cast<uint32_t>(out_->text.size() - f.name_offset
                                         - f.name_size);
  }

  std::size_t field_count() const {
    return out_->fields.size() - fields_begin_;
  }

  std::string_view name_of(const field_record& f) const {
    return {out_->text.data() + f.name_offset, f.name_size};
  }

  // --- member names -----------------------------------------------------

  void on_name(std::string_view name) {
    auto& f = top();
    switch (f.kind) {
      case sink::member:
        return member_name(f, name);
      case sink::field:
        return field_name(f, name);
      case sink::raw:
        check_unique(is_duplicate(f, name), name);
        return raw_name(f, name);
      default:
        return check_unique(is_duplicate(f, name), name);
    }
  }

  void check_unique(bool dup, std::string_view name) {
    if (dup)
      fail_named(error_code::duplicate_field, "member '", name,
                 "' appears more than once");
  }

  /// A top-level name; the five known ones are tracked in a bit set.
  void member_name(frame& f, std::string_view name) {
    auto m = classify(name);
    bool dup = false;
    if (m == member::ignored) {
      dup = is_duplicate(f, name);
    } else {
      auto bit = 1u << static_cast<unsigned>(m);
      dup = (members_seen_ & bit) != 0;
      members_seen_ |= bit;
    }
    check_unique(dup, name);
    if (!dup && m == member::ignored)
      fail_named(error_code::unknown_field, "member '", name,
                 "' is not allowed");
    // A repeated member keeps its first value.
    member_ = dup ? member::ignored : m;
  }

  /// A member of `data`: the fields themselves hold the names seen so far.
  void field_name(frame& f, std::string_view name) {
    check_unique(is_duplicate_field(f, name), name);
    end_field();
    auto& added = out_->fields.emplace_back();
    added.name_offset = static_cast<uint32_t>(out_->text.size());
    added.name_size = static_cast<uint32_t>(name.size());
    out_->text.append(name);
  }

  void raw_name(frame& f, std::string_view name) {
    auto& out = raw_out();
    if (!f.first)
      out.push_back(',');
    f.first = false;
    out.push_back('"');
    append_escaped(out, name);
    out += "\":";
  }

  static member classify(std::string_view name) {
    if (name == "id")
      return member::id;
    if (name == "key")
      return member::key;
    if (name == "op")
      return member::op;
    if (name == "data")
      return member::data;
    if (name == "ts")
      return member::ts;
    return member::ignored;
  }

  /// Checks `name` against the names already seen in `f` and remembers it.
  bool is_duplicate(frame& f, std::string_view name) {
    auto count = key_refs_.size() - f.keys_begin;
    if (count >= linear_key_scan_limit) {
      if (f.big_keys.empty())
        for (auto i = f.keys_begin; i < key_refs_.size(); ++i)
          f.big_keys.emplace(stored_key(key_refs_[i]));
      return !f.big_keys.emplace(name).second;
    }
    for (auto i = f.keys_begin; i < key_refs_.size(); ++i)
      if (stored_key(key_refs_[i]) == name)
        return true;
    key_refs_.push_back({key_chars_.size(), name.size()});
    key_chars_.append(name);
    return false;
  }

  /// Like is_duplicate for the one `data` object, whose names are the
  /// names of the fields before this one.
  bool is_duplicate_field(frame& f, std::string_view name) {
    auto first = out_->fields.begin() + static_cast<long>(fields_begin_);
    if (field_count() >= linear_key_scan_limit) {
      if (f.big_keys.empty())
        for (auto it = first; it != out_->fields.end(); ++it)
          f.big_keys.emplace(name_of(*it));
      return !f.big_keys.emplace(name).second;
    }
    for (auto it = first; it != out_->fields.end(); ++it)
      if (name_of(*it) == name)
        return true;
    return false;
  }

  std::string_view stored_key(const key_ref& k) const {
    return std::string_view{key_chars_}.substr(k.offset, k.size);
  }

  // --- scalars ----------------------------------------------------------

  void string_piece(std::string_view s) {
    if (!in_string_) {
      in_string_ = true;
      str_sink_ = begin_value();
      string_begin();
    }
    switch (str_sink_) {
      case sink::member:
        if (auto* target = member_string()) {
          target->append(s);
          if (auto* ref = member_ref())
            ref->size += s.size();
        }
        return;
      case sink::field:
      case sink::raw:
        append_escaped(raw_out(), s);
        return;
      default:
        return;
    }
  }

  void string_begin() {
    switch (str_sink_) {
      case sink::root:
        fail(error_code::not_an_object, {"event must be a JSON object"});
        return;
      case sink::member:
        op_buf_.clear();
        if (auto* ref = member_ref())
          *ref = text_ref{out_->text.size(), 0};
        if (!member_string())
          wrong_member_type();
        return;
      case sink::field:
        start_raw().push_back('"');
        return;
      case sink::raw:
        raw_out().push_back('"');
        return;
      default:
        return;
    }
  }

  void string_end() {
    in_string_ = false;
    if (str_sink_ == sink::field || str_sink_ == sink::raw)
      raw_out().push_back('"');
    else if (str_sink_ == sink::member)
      member_string_end();
  }

  /// Where a top-level string member collects its text, if it is one: the
  /// batch's text for id and key, a buffer for op.
  std::string* member_string() {
    switch (member_) {
      case member::id:
      case member::key:
        return &out_->text;
      case member::op:
        return &op_buf_;
      default:
        return nullptr;
    }
  }

  /// Where in the batch's text the id or key being read lies.
  text_ref* member_ref() {
    switch (member_) {
      case member::id:
        return &id_;
      case member::key:
        return &key_;
      default:
        return nullptr;
    }
  }

  void member_string_end() {
    switch (member_) {
      case member::id:
        seen_id_ = true;
        id_ok_ = check_size("id", text(id_), max_id_bytes);
        return;
      case member::key:
        seen_key_ = true;
        check_size("key", text(key_), max_key_bytes);
        return;
      case member::op:
        return set_op();
      default:
        return;
    }
  }

  bool check_size(std::string_view name, std::string_view value,
                  std::size_t max) {
    if (value.empty()) {
      fail(error_code::missing_field, {name, " is empty"});
      return false;
    }
    if (value.size() > max) {
      auto limit = std::to_string(max);
      fail(error_code::too_large, {name, " is longer than ", limit, " bytes"});
      return false;
    }
    return true;
  }

  void set_op() {
    if (op_buf_ == "set")
      rec_.op = op_code::set;
    else if (op_buf_ == "incr")
      rec_.op = op_code::incr;
    else if (op_buf_ == "del")
      rec_.op = op_code::del;
    else
      return bad_op();
  }

  void bad_op() {
    op_ok_ = false;
    fail(error_code::bad_op, {"op must be set, incr or del"});
  }

  void wrong_member_type() {
    switch (member_) {
      case member::id:
        seen_id_ = true;
        return fail(error_code::wrong_type, {"id must be a string"});
      case member::key:
        seen_key_ = true;
        return fail(error_code::wrong_type, {"key must be a string"});
      case member::op:
        op_ok_ = false;
        return fail(error_code::wrong_type, {"op must be a string"});
      case member::data:
        return fail(error_code::wrong_type, {"data must be an object"});
      case member::ts:
        return fail(error_code::wrong_type,
                    {"ts must be an integer from 0 to 2^63-1"});
      default:
        return;
    }
  }

  /// The sink of the number being finished, and its full token text.
  sink number_sink() {
    if (in_number_) {
      in_number_ = false;
      return num_sink_;
    }
    return begin_value();
  }

  void not_finite() {
    fail(error_code::overflow, {"data.", current_field_name(), " is out of range"});
    num_buf_.clear();
  }

  bool token_is_integer(json::string_view last) {
    return is_integer_token(num_buf_)
           && is_integer_token({last.data(), last.size()});
  }

  void set_integer(int64_t i) {
    auto& f = out_->fields.back();
    f.kind = value_kind::integer;
    f.number = static_cast<uint64_t>(i);
    num_buf_.clear();
  }

  void set_real(double d) {
    auto& f = out_->fields.back();
    f.kind = value_kind::real;
    f.number = std::bit_cast<uint64_t>(d);
    num_buf_.clear();
  }

  void set_ts(int64_t i) {
    rec_.has_ts = true;
    rec_.ts = i;
    num_buf_.clear();
  }

  /// A number kept as its token text, or one in the wrong place.
  void other_number(sink where, std::string_view last) {
    switch (where) {
      case sink::root:
        fail(error_code::not_an_object, {"event must be a JSON object"});
        break;
      case sink::member:
        wrong_member_type();
        break;
      case sink::field:
        start_raw().append(num_buf_).append(last);
        break;
      case sink::raw:
        raw_out().append(num_buf_).append(last);
        break;
      default:
        break;
    }
    num_buf_.clear();
  }

  void literal(std::string_view text) {
    switch (begin_value()) {
      case sink::root:
        return fail(error_code::not_an_object, {"event must be a JSON object"});
      case sink::member:
        return wrong_member_type();
      case sink::field:
        start_raw().append(text);
        return;
      case sink::raw:
        raw_out().append(text);
        return;
      default:
        return;
    }
  }

  std::string_view text(const text_ref& ref) const {
    return {out_->text.data() + ref.offset, ref.size};
  }

  event_batch* out_ = nullptr;
  std::size_t fields_begin_ = 0; // this event's first field in out_
  event_record rec_;             // op, has_data, ts; the rest in finish()
  text_ref id_;
  text_ref key_;
  std::vector<frame> frames_;
  std::size_t depth_ = 0;
  std::string key_chars_;
  std::vector<key_ref> key_refs_;
  std::string key_buf_;
  std::string num_buf_;
  std::string op_buf_;
  member member_ = member::ignored;
  sink str_sink_ = sink::skip;
  sink num_sink_ = sink::skip;
  bool in_string_ = false;
  bool in_number_ = false;
  bool seen_id_ = false;
  unsigned members_seen_ = 0; // bit per known top-level member
  bool seen_key_ = false;
  bool id_ok_ = false;
  bool op_ok_ = true;
  std::optional<error_code> code_;
  std::string detail_;

public:
  /// Applies the rules that need the whole event, then builds the result.
  std::optional<rejection> complete(uint64_t seq) {
    if (op_ok_ && rec_.op == op_code::incr)
      check_incr_operands();
    return finish(seq);
  }
};

json::parse_options options_for(std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  opt.allow_comments = false;
  opt.allow_trailing_commas = false;
  opt.allow_invalid_utf8 = false;
  return opt;
}

/// The calling thread's parser, rebuilt only when the depth limit changes.
json::basic_parser<event_handler>& thread_parser(std::size_t max_depth) {
  thread_local std::optional<json::basic_parser<event_handler>> parser;
  thread_local std::size_t parser_depth = 0;
  if (!parser || parser_depth != max_depth) {
    parser.emplace(options_for(max_depth));
    parser_depth = max_depth;
  }
  return *parser;
}

std::string syntax_detail(const json::error_code& ec) {
  return "not valid JSON: " + ec.message();
}

rejection too_large_line(uint64_t seq, const input_limits& limits) {
  rejection r;
  r.seq = seq;
  r.code = error_code::too_large;
  r.detail = "line is longer than " + std::to_string(limits.max_event_bytes)
             + " bytes";
  return r;
}

std::optional<rejection> parse_line(std::string_view line, uint64_t seq,
                                    const input_limits& limits,
                                    event_batch& out) {
  auto& parser = thread_parser(limits.max_depth);
  parser.reset();
  auto& h = parser.handler();
  h.reset(out);
  json::error_code ec;
  auto used = parser.write_some(false, line.data(), line.size(), ec);
  if (ec == json::error::too_deep)
    return h.reject(seq, error_code::too_deep,
                    "nesting deeper than " + std::to_string(limits.max_depth)
                      + " levels");
  if (ec)
    return h.reject(seq, error_code::invalid_json, syntax_detail(ec));
  if (used < line.size())
    return h.reject(seq, error_code::invalid_json,
                    "not valid JSON: data after the value");
  return h.complete(seq);
}

// --- split_json_body ------------------------------------------------------

/// A handler that accepts everything: the parser alone checks the syntax.
struct null_handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using sv = json::string_view;
  using ec = json::error_code;
  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_object_begin(ec&) { return true; }
  bool on_object_end(std::size_t, ec&) { return true; }
  bool on_array_begin(ec&) { return true; }
  bool on_array_end(std::size_t, ec&) { return true; }
  bool on_key_part(sv, std::size_t, ec&) { return true; }
  bool on_key(sv, std::size_t, ec&) { return true; }
  bool on_string_part(sv, std::size_t, ec&) { return true; }
  bool on_string(sv, std::size_t, ec&) { return true; }
  bool on_number_part(sv, ec&) { return true; }
  bool on_int64(int64_t, sv, ec&) { return true; }
  bool on_uint64(uint64_t, sv, ec&) { return true; }
  bool on_double(double, sv, ec&) { return true; }
  bool on_bool(bool, ec&) { return true; }
  bool on_null(ec&) { return true; }
  bool on_comment_part(sv, ec&) { return true; }
  bool on_comment(sv, ec&) { return true; }
};

// Bodies may nest deeper than one event (the array adds a level, and the
// element is then judged by decode_event), but not without bound.
constexpr std::size_t body_depth_slack = 64;

/// Checks that `body` is exactly one JSON value; the error says why not.
std::optional<std::string> validate_body(std::string_view body,
                                         std::size_t max_depth) {
  auto depth = max_depth + std::min(body_depth_slack,
                                    std::size_t(-1) - max_depth);
  json::basic_parser<null_handler> parser{options_for(depth)};
  json::error_code ec;
  auto used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec == json::error::too_deep)
    return std::string{"nesting too deep"};
  if (ec)
    return syntax_detail(ec);
  if (used < body.size())
    return std::string{"not valid JSON: data after the value"};
  return std::nullopt;
}

/// Index just past the string literal whose opening quote is at `i`.
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return s.size();
}

/// Index of the ',' or ']' that ends the array element starting at `i`.
/// Only called on validated JSON.
std::size_t element_end(std::string_view s, std::size_t i) {
  std::size_t nesting = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, i);
      continue;
    }
    if (c == '[' || c == '{')
      ++nesting;
    else if ((c == ']' || c == '}') && nesting > 0)
      --nesting;
    else if (nesting == 0 && (c == ',' || c == ']'))
      return i;
    ++i;
  }
  return s.size();
}

/// The exact text of each element of a validated array `arr`.
std::vector<std::string_view> split_array(std::string_view arr) {
  std::vector<std::string_view> out;
  auto inner = trim(arr.substr(1, arr.size() - 2));
  std::size_t i = 0;
  while (i < inner.size()) {
    auto end = element_end(inner, i);
    out.push_back(trim(inner.substr(i, end - i)));
    i = end + 1;
  }
  return out;
}

} // namespace

std::optional<rejection> decode_event(std::string_view line, uint64_t seq,
                                      const input_limits& limits,
                                      event_batch& out) {
  if (line.size() > limits.max_event_bytes)
    return too_large_line(seq, limits);
  auto text_size = out.text.size();
  auto field_count = out.fields.size();
  std::optional<rejection> result;
  try {
    result = parse_line(line, seq, limits, out);
  } catch (const std::exception&) {
    // Only allocation can throw here; the line is lost, not the stream.
    result = rejection{seq, {}, error_code::internal, {}};
  }
  if (result) {
    // What a rejected line wrote is dropped again.
    out.text.resize(text_size);
    out.fields.resize(field_count);
  }
  return result;
}

bool is_blank(std::string_view line) {
  for (char c : line)
    if (!is_json_space(c))
      return false;
  return true;
}

std::optional<std::vector<std::string_view>>
split_json_body(std::string_view body, std::size_t max_depth,
                std::string* detail) {
  if (auto error = validate_body(body, max_depth)) {
    if (detail)
      *detail = std::move(*error);
    return std::nullopt;
  }
  auto value = trim(body);
  if (value.front() != '[')
    return std::vector<std::string_view>{value};
  return split_array(value);
}

} // namespace eventide
