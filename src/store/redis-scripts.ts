// Lua run inside Redis. Each write decides, appends, changes state and
// publishes in one script, so seq order is publish order and nothing reaches
// the channel that the log lacks. Every script starts with the same prelude.
//
// Keys, all under `${prefix}:`
//   epoch            random id of this log; made by the first script that finds none
//   seq, floor       head seq; highest seq dropped by retention
//   clock            ms of the newest event: `at` never goes backwards
//   log              stream, id `${seq}-0`, fields t (ms) and e (event JSON)
//   heads            hash topic → "seq|at" of the newest event touching it; "*" for the whole log
//   item:{id}        hash: status hash note first ver pub topics exp card data; card is the
//                    item without its body (what lists and frames carry)
//   items            zset id by last change (ms): item retention
//   all, topic:{t}   zsets of live item ids by first seq, so a correction keeps its place
//   scheduled        zset of held item ids by release ms; a held item:{id} also keeps its
//                    content JSON (and cardc, the content without body) and is in no
//                    list, not in `items`, and has no event
//   topics           set of every topic with a list, so a reset can find them
//   killed           zset of retracted item ids by the time of the kill, for withdrawal notices
//   history:{id}     list of the item's versions (JSON: version, event, at, changeNote?,
//                    reason?, by?, requestId?), appended by the write that made each one and
//                    dropped with the item; a held item:{id} keeps `actor`, who scheduled it
//   events           the pub/sub channel; message = epoch "|" event JSON (a shard
//                    channel, SPUBLISH, in a cluster)
//   sync             a counter bumped behind each write when replicas must confirm it (WAIT)
//
// Scripts build keys from the prefix; the prefix itself is the one declared
// key (see Script in redis.ts), and in a cluster it is a hash tag, so every
// key a script touches is in the slot it was routed to.

const PRELUDE = `
local P = ARGV[1] .. ':'
local function k(name) return P .. name end
local function int(n) return string.format('%d', n) end

-- ISO 8601 with milliseconds, as Date#toISOString writes it.
local function iso(ms)
  local days = math.floor(ms / 86400000)
  local rem = ms - days * 86400000
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  local h = math.floor(rem / 3600000)
  rem = rem - h * 3600000
  local mi = math.floor(rem / 60000)
  rem = rem - mi * 60000
  local s = math.floor(rem / 1000)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, h, mi, s, rem - s * 1000)
end

-- A log without an epoch is a new log: whatever is left of an old one goes.
local function wipe()
  for _, id in ipairs(redis.call('ZRANGE', k('items'), 0, -1)) do redis.call('DEL', k('item:' .. id), k('history:' .. id)) end
  for _, id in ipairs(redis.call('ZRANGE', k('scheduled'), 0, -1)) do redis.call('DEL', k('item:' .. id)) end
  for _, t in ipairs(redis.call('SMEMBERS', k('topics'))) do redis.call('DEL', k('topic:' .. t)) end
  redis.call('DEL', k('seq'), k('floor'), k('clock'), k('log'), k('heads'), k('all'), k('items'), k('topics'), k('scheduled'), k('killed'))
end

-- The candidate comes from the caller: a script must not make up randomness.
local function epoch(candidate)
  local e = redis.call('GET', k('epoch'))
  if e then return e end
  wipe()
  redis.call('SET', k('epoch'), candidate)
  return candidate
end

local function head_seq() return tonumber(redis.call('GET', k('seq')) or '0') end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * ARGV: prefix, candidate epoch, op (publish|update|retract|release), id,
 * hash, content JSON (retract, release: id JSON), topics JSON, expires ms or
 * '', change note JSON or '', reason JSON or '', deadline (Redis clock, ms),
 * embargo ms or '', release: "now" in ms or '' for Redis's clock, the content
 * JSON without its body ('' for retract and release), '1' when a correction
 * is to alert readers again (else ''), who makes the write (the JSON text
 * that ends its history entry, or ''), the topics the writer is limited to
 * (JSON, or '' for every topic), then each topic.
 *
 * An embargo still in force (by Redis's clock, the same for every process)
 * holds the item instead of publishing it; retract cancels a held item;
 * release publishes a held item once it is due, and only once.
 */
export const WRITE = `${PRELUDE}
-- A write that reaches Redis after the caller has given up on it (Redis was
-- stalled) does nothing: the caller answered 503 and its newsroom may have
-- moved on; a late write would surface out of the blue.
if now_ms() > tonumber(ARGV[11]) then return {'expired'} end
local ep = epoch(ARGV[2])
local op, id, hash, content, topicsJson, expires, note, reason = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local embargo = tonumber(ARGV[12])
local clock = now_ms()
local now = tonumber(ARGV[13]) or clock
local ikey = k('item:' .. id)
local cardContent = ARGV[14]
local cur = redis.call('HMGET', ikey, 'status', 'hash', 'note', 'first', 'ver', 'pub', 'topics', 'data', 'content', 'exp', 'cardc', 'actor')
local status = cur[1]
local topics = {}
local notify = ARGV[15] == '1'
local actor = ARGV[16]
local limitedTo = ARGV[17]
for i = 18, #ARGV do topics[#topics + 1] = ARGV[i] end
local hold = embargo ~= nil and embargo > now

-- Decide before writing anything: a script that fails halfway keeps its writes.
if op == 'publish' then
  if status then
    if status == 'retracted' then return {'gone', cur[8]} end
    if cur[2] == hash then return {'unchanged', ep, head_seq(), cur[8]} end
    return {'conflict', cur[8]}
  end
elseif op == 'release' then
  local due = tonumber(redis.call('ZSCORE', k('scheduled'), id))
  if status ~= 'scheduled' or not due or due > now then return {'not-found'} end
  hash, content, topicsJson, expires, note = cur[2], cur[9], cur[7], cur[10] or '', cur[3] or ''
  cardContent = cur[11] or content
  actor = cur[12] or ''
  topics = cjson.decode(topicsJson)
else
  if not status then return {'not-found'} end
  -- A writer limited to topics may not change an item that is in others now.
  if limitedTo ~= '' then
    local allowed = {}
    for _, topic in ipairs(cjson.decode(limitedTo)) do allowed[topic] = true end
    local outside = {}
    for _, topic in ipairs(cjson.decode(cur[7])) do
      if not allowed[topic] then outside[#outside + 1] = topic end
    end
    if #outside > 0 then return {'forbidden-topic', unpack(outside)} end
  end
  if status == 'retracted' then return {'gone', cur[8]} end
  if op == 'update' and cur[2] == hash and (cur[3] or '') == note then
    return {'unchanged', ep, head_seq(), cur[8]}
  end
  -- Readers have it already: no embargo can take it back.
  if op == 'update' and status == 'published' and hold then return {'conflict', cur[8]} end
end

-- Held items never reach the log, the lists or the channel.
if op == 'retract' and status == 'scheduled' then
  redis.call('DEL', ikey)
  redis.call('ZREM', k('scheduled'), id)
  return {'cancelled', ep, head_seq(), (string.gsub(cur[8], '"scheduled"}$', '"cancelled"}'))}
end
if hold then
  local data = string.sub(content, 1, -2) .. ',"updatedAt":"' .. iso(clock) .. '","status":"scheduled"}'
  redis.call('HSET', ikey, 'status', 'scheduled', 'hash', hash, 'topics', topicsJson, 'card', data, 'data', data,
    'content', content, 'cardc', cardContent, 'actor', actor)
  if note ~= '' then redis.call('HSET', ikey, 'note', note) else redis.call('HDEL', ikey, 'note') end
  if expires ~= '' then redis.call('HSET', ikey, 'exp', expires) else redis.call('HDEL', ikey, 'exp') end
  redis.call('ZADD', k('scheduled'), ARGV[12], id)
  return {'scheduled', data}
end

-- Version 1: a new item, a release, or a held item published now.
local fresh = op == 'publish' or op == 'release' or status == 'scheduled'
local seq = head_seq() + 1
local ms = clock
local last = tonumber(redis.call('GET', k('clock')) or '0')
if ms < last then ms = last end
local at = iso(ms)

local etype, item, card, first, version
local former = ''
local touched = {}
if fresh then
  etype, first, version = 'published', seq, 1
  local tail = ',"version":1,"publishedAt":"' .. at .. '","updatedAt":"' .. at .. '","status":"published"}'
  item = string.sub(content, 1, -2) .. tail
  card = string.sub(cardContent, 1, -2) .. tail
elseif op == 'update' then
  etype, first, version = 'updated', tonumber(cur[4]), tonumber(cur[5]) + 1
  local tail = ',"version":' .. int(version) .. ',"publishedAt":"' .. cur[6] ..
    '","updatedAt":"' .. at .. '","status":"published"' .. (note ~= '' and (',"changeNote":' .. note) or '') .. '}'
  item = string.sub(content, 1, -2) .. tail
  card = string.sub(cardContent, 1, -2) .. tail
  -- Readers of a topic the correction left must hear of it too.
  local stay = {}
  for _, topic in ipairs(topics) do stay[topic] = true end
  local gone = {}
  for _, topic in ipairs(cjson.decode(cur[7])) do
    if not stay[topic] then gone[#gone + 1] = '"' .. topic .. '"' end
  end
  if #gone > 0 then former = ',"formerTopics":[' .. table.concat(gone, ',') .. ']' end
else
  etype, first, version = 'retracted', tonumber(cur[4]), tonumber(cur[5]) + 1
  item = '{"id":' .. content .. ',"topics":' .. cur[7] .. ',"version":' .. int(version) .. ',"publishedAt":"' .. cur[6] ..
    '","updatedAt":"' .. at .. '","status":"retracted","reason":' .. reason .. '}'
  card = item
end
local alert = (op == 'update' and etype == 'updated' and notify) and ',"notify":true' or ''
local event = '{"seq":' .. int(seq) .. ',"type":"' .. etype .. '","at":"' .. at .. '","item":' .. item .. former .. alert .. '}'

-- The append goes first: if it fails, nothing else has changed.
redis.call('XADD', k('log'), int(seq) .. '-0', 't', int(ms), 'e', event)
redis.call('SET', k('seq'), int(seq))
redis.call('SET', k('clock'), int(ms))
-- The item's history keeps the version beside its state: retention trims the log, not this.
redis.call('RPUSH', k('history:' .. id), '{"version":' .. int(version) .. ',"event":"' .. etype .. '","at":"' .. at .. '"' ..
  ((etype == 'updated' and note ~= '') and (',"changeNote":' .. note) or '') ..
  (etype == 'retracted' and (',"reason":' .. reason) or '') .. actor .. '}')

if op == 'retract' then
  redis.call('HSET', ikey, 'status', 'retracted', 'hash', 'retracted', 'ver', int(version), 'card', card, 'data', item)
  redis.call('HDEL', ikey, 'note', 'exp')
  redis.call('ZREM', k('all'), id)
  for _, topic in ipairs(cjson.decode(cur[7])) do
    redis.call('ZREM', k('topic:' .. topic), id)
    touched[topic] = true
  end
else
  redis.call('HSET', ikey, 'status', 'published', 'hash', hash, 'first', int(first), 'ver', int(version),
    'topics', topicsJson, 'card', card, 'data', item)
  if fresh then redis.call('HSET', ikey, 'pub', at) end
  if status == 'scheduled' then
    redis.call('HDEL', ikey, 'content', 'cardc', 'actor')
    redis.call('ZREM', k('scheduled'), id)
  end
  if note ~= '' then redis.call('HSET', ikey, 'note', note) else redis.call('HDEL', ikey, 'note') end
  if expires ~= '' then redis.call('HSET', ikey, 'exp', expires) else redis.call('HDEL', ikey, 'exp') end
  local keep = {}
  for _, topic in ipairs(topics) do keep[topic] = true end
  if not fresh then
    -- Topics may change in a correction; the item keeps its place in each list.
    for _, topic in ipairs(cjson.decode(cur[7])) do
      if not keep[topic] then redis.call('ZREM', k('topic:' .. topic), id) end
      touched[topic] = true
    end
  end
  redis.call('ZADD', k('all'), int(first), id)
  for topic in pairs(keep) do
    redis.call('ZADD', k('topic:' .. topic), int(first), id)
    redis.call('SADD', k('topics'), topic)
    touched[topic] = true
  end
end
redis.call('ZADD', k('items'), int(ms), id)
if op == 'retract' then redis.call('ZADD', k('killed'), int(ms), id) end

local mark = int(seq) .. '|' .. at
redis.call('HSET', k('heads'), '*', mark)
for topic in pairs(touched) do redis.call('HSET', k('heads'), topic, mark) end

redis.call('PUBLISH', k('events'), ep .. '|' .. event)
return {'appended', ep, event}
`;

/**
 * ARGV: prefix, limit, due by (ms) or '' for every one. Returns the JSON of
 * held items, earliest release first.
 */
export const SCHEDULED = `${PRELUDE}
if not redis.call('GET', k('epoch')) then return {} end
local out = {}
local ids = redis.call('ZRANGEBYSCORE', k('scheduled'), '-inf', ARGV[3] == '' and '+inf' or ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local r = redis.call('HMGET', k('item:' .. id), 'status', 'data')
  if r[1] == 'scheduled' then out[#out + 1] = r[2] end
end
return out
`;

/** ARGV: prefix, candidate epoch. Returns epoch, seq, floor, and Redis's clock (ms). */
export const HEAD = `${PRELUDE}
local ep = epoch(ARGV[2])
return {ep, head_seq(), tonumber(redis.call('GET', k('floor')) or '0'), now_ms()}
`;

/**
 * ARGV: prefix, epoch seen, seq seen, candidate epoch. When the log is still
 * that epoch but its head is behind a seq already delivered, it lost its tail
 * (Redis came back from an older save, or a replica took over): it gets a new
 * epoch so every cursor into the lost part is reset, never silently reused.
 * Returns the epoch now in force.
 */
export const RENEW = `${PRELUDE}
local ep = redis.call('GET', k('epoch'))
if ep == ARGV[2] and head_seq() < tonumber(ARGV[3]) then
  redis.call('SET', k('epoch'), ARGV[4])
  return ARGV[4]
end
return ep or ''
`;

/**
 * ARGV: prefix, candidate epoch, limit, now ms, field ('card' or 'data'),
 * then each list key: '*' (every item), a topic, or 'item:' .. id.
 * Returns epoch, head seq, then per key {seq, at or '', {id, first seq,
 * expires ms or '', json}...}, live items only, newest first. Every key is
 * read in this one script: one log position for all of them.
 */
export const LISTS = `${PRELUDE}
local ep = epoch(ARGV[2])
local hs = head_seq()
local limit, now, field = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

-- The item's entry if it is live, else nil.
local function live(id)
  local r = redis.call('HMGET', k('item:' .. id), 'status', 'exp', field, 'data', 'first')
  if r[1] ~= 'published' or (r[2] and tonumber(r[2]) <= now) then return nil end
  -- Items written before cards existed have only their data.
  return {id, tonumber(r[5]), r[2] or '', r[3] or r[4]}
end

local out = {ep, hs}
for i = 6, #ARGV do
  local key = ARGV[i]
  local entries = {}
  local seq, at = 0, ''
  if string.sub(key, 1, 5) == 'item:' then
    local entry = live(string.sub(key, 6))
    if entry then entries[1] = entry end
  else
    local zset = key == '*' and k('all') or k('topic:' .. key)
    local page = math.max(limit, 20)
    local start = 0
    while #entries < limit do
      local ids = redis.call('ZREVRANGE', zset, start, start + page - 1)
      for _, id in ipairs(ids) do
        local entry = live(id)
        if entry then
          entries[#entries + 1] = entry
          if #entries >= limit then break end
        end
      end
      if #ids < page then break end
      start = start + page
    end
    local head = redis.call('HGET', k('heads'), key)
    if head then
      local bar = string.find(head, '|', 1, true)
      seq = tonumber(string.sub(head, 1, bar - 1))
      at = string.sub(head, bar + 1)
    end
  end
  out[#out + 1] = {seq, at, entries}
end
return out
`;

/**
 * ARGV: prefix, before (first seq, exclusive), limit, now ms. Returns {id, first, exp, card}
 * of live items first published before then, newest first: one page of a walk over "all".
 */
export const LIVE_CARDS = `${PRELUDE}
local limit, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local max = '(' .. ARGV[2]
local out = {}
while #out < limit do
  local page = redis.call('ZREVRANGEBYSCORE', k('all'), max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #page, 2 do
    local id = page[i]
    max = '(' .. page[i + 1]
    local r = redis.call('HMGET', k('item:' .. id), 'status', 'exp', 'card', 'data', 'first')
    if r[1] == 'published' and not (r[2] and tonumber(r[2]) <= now) then
      out[#out + 1] = {id, tonumber(r[5]), r[2] or '', r[3] or r[4]}
      if #out >= limit then break end
    end
  end
  if #page < limit * 2 then break end
end
return out
`;

/** ARGV: prefix, since ms, limit. Returns the JSON of items retracted after then, the latest kill first. */
export const KILLED = `${PRELUDE}
local out = {}
for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', k('killed'), '+inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  local r = redis.call('HMGET', k('item:' .. id), 'status', 'data')
  if r[1] == 'retracted' then out[#out + 1] = r[2] end
end
return out
`;

/**
 * ARGV: prefix, max events, event cutoff ms, item cutoff ms, batch.
 * Returns events dropped and 1 when there is more to do.
 */
export const TRIM = `${PRELUDE}
if not redis.call('GET', k('epoch')) then return {0, 0} end
local maxEvents, cutoff, itemCutoff, batch = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local floor = tonumber(redis.call('GET', k('floor')) or '0')
local cut = head_seq() - maxEvents
local more = 0

-- By age: the clock never goes back, so old events are a prefix of the log.
local scanned = 0
local from = int(math.max(cut, floor) + 1)
while scanned < batch do
  local entries = redis.call('XRANGE', k('log'), from, '+', 'COUNT', 100)
  local young = false
  for _, entry in ipairs(entries) do
    local f = entry[2]
    local ms = f[1] == 't' and f[2] or f[4]
    if tonumber(ms) >= cutoff then young = true break end
    cut = math.max(cut, tonumber(string.match(entry[1], '^(%d+)')))
    scanned = scanned + 1
  end
  if young or #entries < 100 then break end
  from = '(' .. entries[#entries][1]
end
if scanned >= batch then more = 1 end

local dropped = 0
if cut > floor then
  dropped = redis.call('XTRIM', k('log'), 'MINID', int(cut + 1))
  redis.call('SET', k('floor'), int(cut))
end

local ids = redis.call('ZRANGEBYSCORE', k('items'), '-inf', '(' .. itemCutoff, 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  local ikey = k('item:' .. id)
  local topics = redis.call('HGET', ikey, 'topics')
  if topics then
    for _, topic in ipairs(cjson.decode(topics)) do redis.call('ZREM', k('topic:' .. topic), id) end
  end
  redis.call('ZREM', k('all'), id)
  redis.call('ZREM', k('items'), id)
  redis.call('ZREM', k('killed'), id)
  redis.call('DEL', ikey, k('history:' .. id))
end
if #ids >= batch then more = 1 end
return {dropped, more}
`;
