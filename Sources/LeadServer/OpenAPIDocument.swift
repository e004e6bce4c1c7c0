/// The OpenAPI 3.1 description of the API, served at `/openapi.yaml`: the text of
/// `Schemas/openapi.yaml`, copied by tools/embed-openapi.sh (a test checks they are the same).
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: LeadLedger
  version: "1"
  summary: An event-sourced lead lifecycle engine, served over HTTP by `leadledger serve`.
  description: |
    Every route under /v1 needs `Authorization: Bearer <key>` (`leadledger keys create`):
    no key or an unknown one is a 401, a key whose role does not allow the route a 403.
    Roles: `ingest` appends, `read` reads, `admin` does both and publishes rules.
    Errors are `application/problem+json` with a `detail` that says what is wrong and where.
servers:
  - url: http://127.0.0.1:8080
security:
  - bearer: []
paths:
  /healthz:
    get:
      summary: The process answers.
      security: []
      responses:
        "200":
          description: Alive.
          content:
            application/json:
              schema: {type: object, required: [status], properties: {status: {const: ok}}}
  /readyz:
    get:
      summary: The store can be read and written (503 once a failed flush has stopped its writer, until a restart).
      security: []
      responses:
        "200":
          description: Ready.
          content:
            application/json:
              schema:
                type: object
                required: [status, position]
                properties:
                  status: {const: ready}
                  position: {type: integer, minimum: 0}
        "503": {$ref: "#/components/responses/Problem"}
  /metrics:
    get:
      summary: Prometheus metrics (text exposition format).
      security: []
      responses:
        "200":
          description: The metrics.
          content:
            text/plain:
              schema: {type: string}
  /:
    get:
      summary: The closed-loop dashboard (read; a browser may send the key as the Basic password).
      security:
        - bearer: []
        - basic: []
      parameters:
        - {name: model, in: query, schema: {$ref: "#/components/schemas/Model"}}
      responses:
        "200":
          description: A self-contained HTML page.
          content:
            text/html:
              schema: {type: string}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /v1/events:
    post:
      summary: Append events (ingest). Answered after the durable commit, one outcome per event.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: array
              maxItems: 10000
              items: {$ref: "#/components/schemas/EventInput"}
          application/x-ndjson:
            schema: {type: string, description: One event per line.}
      responses:
        "200":
          description: The counts and one outcome per event.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/AppendResult"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
        "415": {$ref: "#/components/responses/Problem"}
        "503": {$ref: "#/components/responses/Problem"}
    get:
      summary: The log in pages, for connectors that keep an offset (read).
      parameters:
        - {name: after, in: query, schema: {type: integer, minimum: 0}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000}}
      responses:
        "200":
          description: Up to `limit` events after `after`; `next` is the `after` of the next page.
          content:
            application/json:
              schema:
                type: object
                required: [events, next]
                properties:
                  events: {type: array, items: {$ref: "#/components/schemas/StoredEvent"}}
                  next: {type: integer, minimum: 0}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /v1/stream:
    get:
      summary: Every event after `after`, then live as commits land (read). NDJSON, or Server-Sent Events with Accept text/event-stream.
      parameters:
        - {name: after, in: query, schema: {type: integer, minimum: 0}}
        - {name: type, in: query, schema: {type: string}}
        - {name: Last-Event-ID, in: header, schema: {type: string}}
      responses:
        "200":
          description: >-
            An endless stream of stored events (NDJSON: one StoredEvent a line; SSE: `id` the
            position, `event` the type, `data` the StoredEvent; a `: heartbeat` comment every
            15 s when idle). The server ends it with a last message saying where to resume
            (reconnect with `after` or `Last-Event-ID` set to `resumeAfter`): when it stops
            gracefully, `{"end":"the server is stopping","resumeAfter":P}` (SSE `event: end`);
            when the consumer falls behind (more than the server's maximum lag behind the log's
            head, 10,000 positions by default, while a write to it waits past the stall
            timeout, 10 s by default), `{"error":"the consumer fell behind","resumeAfter":P}`
            (SSE `event: error`). P is the last position written to the consumer before the
            message. A consumer that does not drain even the last message within the stall
            timeout is disconnected after the events its socket took. The last message's
            shape is the StreamEnd schema.
          content:
            application/x-ndjson:
              schema: {type: string}
            text/event-stream:
              schema: {type: string}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /v1/leads/{id}:
    get:
      summary: A lead's state now, or as of a time (read).
      description: >-
        The id of a lead merged into another answers with the lead it ended in (following
        merges that chain), and `merged` names the id asked for and each merge.
      parameters:
        - {$ref: "#/components/parameters/LeadID"}
        - {name: asOf, in: query, schema: {type: string}}
      responses:
        "200":
          description: The lead.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Lead"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    delete:
      summary: Erase a lead's personal fields for good, on request (admin).
      description: >-
        Crypto-shredding: destroys the keys that encrypt the personal fields of the lead (and
        of its visitors and of the leads merged into it; an id merged away erases the lead it
        ended in), then appends lead.erased with the reason and the key's name as its actor.
        From then on those fields read as "[erased]" in every answer (lead, history, audit,
        events, stream) and the lead shows `erased`; stages, touches, scores and revenue are
        unchanged. The reason comes from the query (`?reason=`) or the body. Erasing again
        answers 200 with alreadyErased and the first erasure. 404 for an unknown lead; 409
        for a store that keeps personal fields in plaintext (written without a master key),
        or a server started without the store's master key (erasing needs it).
      parameters:
        - {$ref: "#/components/parameters/LeadID"}
        - {name: reason, in: query, schema: {type: string, minLength: 1}, description: Why (instead of the body).}
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [reason]
              properties:
                reason: {type: string, minLength: 1, description: "Why (e.g. the request's reference); recorded in lead.erased, so no personal data."}
      responses:
        "200":
          description: Erased (or erased already, with alreadyErased).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/ErasureResult"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /v1/accounts/{id}:
    get:
      summary: An account's leads, stages, engagement, score and opportunities (read).
      description: >-
        A lead belongs to an account by a tracking group call's id, an `account` or `accountId`
        field on lead.captured or lead.enriched (the latest wins), or else its e-mail domain
        (`emailDomain`, else the domain of `email`) or company `domain`, never a free-mail
        domain (docs/lead-data.md). `asOf` ends the 90-day engagement window (default now);
        stages, scores and opportunities are current. An account no lead belongs to is a 404.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string, minLength: 1}}
        - {name: asOf, in: query, schema: {type: string}}
      responses:
        "200":
          description: The account.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Account"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /v1/leads/{id}/merge:
    post:
      summary: Merge this lead (a duplicate) into another lead, the survivor (admin).
      description: >-
        Appends lead.merged to the survivor's stream, with the key's name as its actor. From
        then on the survivor's journey holds both leads' events in time order (the more
        advanced stage wins; the survivor's profile fields win, the duplicate's fill gaps;
        one conversion), and the duplicate's id resolves to the survivor. The same merge
        again answers 200 with alreadyMerged. Refused (409, with the reason) for a lead
        merged away, a cycle, or two customers with different won opportunities; 404 for an
        unknown lead; 400 for a lead merged into itself.
      parameters:
        - {$ref: "#/components/parameters/LeadID"}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [into]
              properties:
                into: {type: string, minLength: 1, description: The survivor's id.}
                reason: {type: string, description: Why (recorded with the merge).}
      responses:
        "200":
          description: The same merge was made already.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/MergeResult"}
        "201":
          description: Merged.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/MergeResult"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /v1/leads/{id}/history:
    get:
      summary: Every event of a lead, in log order (read).
      parameters:
        - {$ref: "#/components/parameters/LeadID"}
      responses:
        "200":
          description: The events.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Rows"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /v1/leads/{id}/score:
    get:
      summary: A lead's score, explained rule by rule (read).
      parameters:
        - {$ref: "#/components/parameters/LeadID"}
        - {name: asOf, in: query, schema: {type: string}}
      responses:
        "200":
          description: The score and its hits.
          content:
            application/json:
              schema:
                type: object
                required: [lead, score, fit, engagement, rulesVersion, hits]
                properties:
                  lead: {type: string}
                  score: {type: number}
                  fit: {type: number}
                  engagement: {type: number}
                  rulesVersion: {type: string}
                  asOf: {type: string}
                  hits: {type: array, items: {type: object}}
                  merged:
                    type: object
                    description: Only when the id asked for was merged away; the score is the lead it ended in.
                    required: [from, into]
                    properties:
                      from: {type: string}
                      into: {type: string}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /v1/audit:
    get:
      summary: Who recorded what and when, filtered and paged by a cursor (read).
      parameters:
        - {name: lead, in: query, schema: {type: string}}
        - {name: actor, in: query, schema: {type: string}}
        - {name: type, in: query, schema: {type: string}}
        - {name: since, in: query, schema: {type: string}}
        - {name: until, in: query, schema: {type: string}}
        - {name: after, in: query, schema: {type: integer, minimum: 0}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
      responses:
        "200":
          description: A page of events; `next` is the `after` of the next page, null at the end.
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Rows"}
                  - type: object
                    required: [next]
                    properties:
                      next: {type: [integer, "null"], minimum: 0}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /v1/reports/{name}:
    get:
      summary: A closed-loop report with the CLI's options as query parameters (read). JSON, CSV (Accept text/csv) or HTML (Accept text/html).
      parameters:
        - name: name
          in: path
          required: true
          schema: {type: string, enum: [attribution, funnel, quality, sla, monthly, plan, paths, account-funnel]}
        - {name: model, in: query, schema: {$ref: "#/components/schemas/Model"}}
        - name: by
          in: query
          description: >-
            attribution: channel, campaign, source, content or account; funnel and quality:
            source, campaign, channel, cohort or account (leads without an account are `(none)`).
          schema: {type: string, enum: [channel, campaign, source, content, cohort, account]}
        - {name: from, in: query, schema: {type: string}}
        - {name: to, in: query, schema: {type: string}}
        - {name: halfLife, in: query, schema: {type: number, exclusiveMinimum: 0, maximum: 36500}}
        - {name: lookback, in: query, schema: {type: number, exclusiveMinimum: 0, maximum: 36500}}
        - {name: order, in: query, schema: {type: integer, minimum: 1, maximum: 4}}
        - {name: within, in: query, schema: {type: number, exclusiveMinimum: 0, maximum: 876000}}
        - {name: revenue, in: query, schema: {type: number, exclusiveMinimum: 0, maximum: 1.0e15}}
      responses:
        "200":
          description: The report.
          content:
            application/json:
              schema:
                type: object
                required: [report, rows, totals]
                properties:
                  report: {type: string}
                  model: {type: [string, "null"]}
                  by: {type: [string, "null"]}
                  rows: {type: array, items: {type: object}}
                  totals: {type: object}
            text/csv:
              schema: {type: string}
            text/html:
              schema: {type: string}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /v1/rules:
    get:
      summary: The scoring rules in force (read).
      responses:
        "200":
          description: Their version and document.
          content:
            application/json:
              schema:
                type: object
                required: [version, document]
                properties:
                  version: {type: string}
                  document: {type: object}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    post:
      summary: Publish a scoring-rules document, YAML or JSON (admin).
      requestBody:
        required: true
        content:
          application/yaml:
            schema: {type: string}
          application/json:
            schema: {type: object}
      responses:
        "200": {$ref: "#/components/responses/Published"}
        "201": {$ref: "#/components/responses/Published"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /v1/rescore:
    post:
      summary: What would differ under a rules document (read); with apply=true, publish it and qualify now (admin).
      parameters:
        - {name: apply, in: query, schema: {type: boolean}}
        - {name: asOf, in: query, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/yaml:
            schema: {type: string}
          application/json:
            schema: {type: object}
      responses:
        "200":
          description: The rescore diff (and, applied, who qualified now).
          content:
            application/json:
              schema:
                type: object
                required: [rulesVersion, newlyQualified, noLongerQualified, moved]
                properties:
                  rulesVersion: {type: string}
                  baseVersion: {type: [string, "null"]}
                  newlyQualified: {type: array, items: {type: string}}
                  noLongerQualified: {type: array, items: {type: string}}
                  moved: {type: array, items: {type: object}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /v1/admin/backup:
    post:
      summary: Write a backup of the store while it is being written (admin).
      description: >-
        A consistent, compacted copy of the log and projections (from one read snapshot), the
        store's API keys and a manifest (position and chain hash at the copy's end, time,
        source, each file's size and SHA-256), written into a new directory directly below the
        server's backup directory (serve --backup-dir) and renamed into place once complete.
        Without --backup-dir the route is refused (403). Restore with leadledger restore.
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                name:
                  description: The backup's directory under the backup directory (default backup-YYYYMMDDTHHMMSSZ).
                  type: string
                  pattern: "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$"
      responses:
        "201":
          description: The backup is complete; its manifest, name and path.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/BackupManifest"}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /v1/identify: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/track: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/page: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/screen: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/group: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/alias: {$ref: "#/components/pathItems/TrackingMessage"}
  /v1/batch: {$ref: "#/components/pathItems/TrackingBatch"}
  /v1/import: {$ref: "#/components/pathItems/TrackingBatch"}
components:
  pathItems:
    TrackingMessage:
      post:
        summary: "Segment tracking API: one message (the route names its type: identify, track, page, screen, group or alias)"
        description: The write key is an API key with the ingest role, as the user name of HTTP Basic credentials (empty password), a Bearer token, or `writeKey` in the body. The body may be gzip (Content-Encoding).
        security: [{basic: []}, {bearer: []}, {}]
        parameters:
          - {name: Content-Encoding, in: header, schema: {type: string, enum: [gzip, identity]}}
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: "#/components/schemas/TrackingMessage"}
        responses:
          "200": {$ref: "#/components/responses/TrackingAccepted"}
          "400": {$ref: "#/components/responses/TrackingRefusal"}
          "401": {$ref: "#/components/responses/TrackingRefusal"}
          "403": {$ref: "#/components/responses/TrackingRefusal"}
          "429": {$ref: "#/components/responses/TrackingRateLimited"}
          "503": {$ref: "#/components/responses/TrackingRefusal"}
    TrackingBatch:
      post:
        summary: "Segment tracking API: a batch of messages (/v1/import is RudderStack's name for it)"
        description: The write key is an API key with the ingest role, as the user name of HTTP Basic credentials (empty password), a Bearer token, or `writeKey` in the body. The body may be gzip (Content-Encoding).
        security: [{basic: []}, {bearer: []}, {}]
        parameters:
          - {name: Content-Encoding, in: header, schema: {type: string, enum: [gzip, identity]}}
        requestBody:
          required: true
          content:
            application/json:
              schema:
                type: object
                required: [batch]
                properties:
                  batch: {type: array, items: {$ref: "#/components/schemas/TrackingMessage"}}
                  sentAt: {type: string, description: "When the client sent the batch, by its clock (for the skew correction)."}
                  writeKey: {type: string}
        responses:
          "200": {$ref: "#/components/responses/TrackingAccepted"}
          "400": {$ref: "#/components/responses/TrackingRefusal"}
          "401": {$ref: "#/components/responses/TrackingRefusal"}
          "403": {$ref: "#/components/responses/TrackingRefusal"}
          "429": {$ref: "#/components/responses/TrackingRateLimited"}
          "503": {$ref: "#/components/responses/TrackingRefusal"}
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    basic: {type: http, scheme: basic}
  parameters:
    LeadID:
      name: id
      in: path
      required: true
      schema: {type: string, minLength: 1}
  responses:
    TrackingAccepted:
      description: Stored (`stored`), already stored (`duplicates`, by message id), or nothing to store (`unchanged`, e.g. an identify that adds nothing).
      content:
        application/json:
          schema:
            type: object
            required: [success]
            properties:
              success: {type: boolean}
              stored: {type: integer, minimum: 0}
              duplicates: {type: integer, minimum: 0}
              unchanged: {type: integer, minimum: 0}
    TrackingRefusal:
      description: Refused, with a `code` and a `message` (what the client libraries log); in a batch, the messages not refused were stored, and `refused` lists the others.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/TrackingRefusal"}
    TrackingRateLimited:
      description: The write key sends more messages a second than the server allows; retry after `Retry-After` seconds.
      headers:
        Retry-After: {schema: {type: integer, minimum: 1}}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/TrackingRefusal"}
    Problem:
      description: What is wrong and where.
      content:
        application/problem+json:
          schema: {$ref: "#/components/schemas/Problem"}
    Published:
      description: The rules are in force.
      content:
        application/json:
          schema:
            type: object
            required: [published, position]
            properties:
              published: {type: string}
              position: {type: integer}
              alreadyPublished: {type: boolean}
              warnings:
                type: array
                description: What in the rules will never hold (rules on fields the store encrypts).
                items: {type: string}
  schemas:
    TrackingMessage:
      description: A Segment-spec message (identify, track, page, screen, group, alias); at least a userId or an anonymousId (alias needs userId and previousId).
      type: object
      properties:
        type: {type: string, enum: [identify, track, page, screen, group, alias]}
        userId: {type: [string, number]}
        anonymousId: {type: [string, number]}
        previousId: {type: [string, number]}
        groupId: {type: [string, number]}
        messageId: {type: string}
        event: {type: string}
        name: {type: string}
        timestamp: {type: string}
        originalTimestamp: {type: string}
        sentAt: {type: string}
        properties: {type: object}
        traits: {type: object}
        context: {type: object}
    TrackingRefusal:
      type: object
      required: [success, code, message]
      properties:
        success: {type: boolean}
        code: {type: string}
        message: {type: string}
        stored: {type: integer}
        duplicates: {type: integer}
        unchanged: {type: integer}
        refused:
          type: array
          items:
            type: object
            required: [index, reason]
            properties:
              index: {type: integer}
              reason: {type: string}
    StreamEnd:
      description: The last message of a /v1/stream the server ends (its last NDJSON line, or the data of its last Server-Sent Event).
      type: object
      required: [resumeAfter]
      properties:
        end: {type: string, description: "Why the server ends the stream: it is stopping (SSE event: end)."}
        error: {type: string, description: "Why the server lets the consumer go: it fell behind (SSE event: error)."}
        resumeAfter: {type: integer, minimum: 0, description: "The position to resume after: the last one written to the consumer."}
    Problem:
      type: object
      required: [type, title, status, detail]
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer}
        detail: {type: string}
        line: {type: integer}
    Model:
      type: string
      enum: [first-touch, last-touch, lead-creation, linear, u-shaped, w-shaped, full-path, position-based, time-decay, markov]
    EventInput:
      description: An event envelope (Schemas/envelope.schema.json is its full contract).
      type: object
      required: [id, type, at]
      properties:
        id: {type: string}
        type: {type: string}
        lead: {type: string}
        at: {type: string}
        actor: {type: string}
        data: {type: object}
    StoredEvent:
      type: object
      required: [position, at, recordedAt, type, id, data]
      properties:
        position: {type: integer, minimum: 1}
        at: {type: string}
        recordedAt: {type: string}
        type: {type: string}
        lead: {type: [string, "null"]}
        actor: {type: [string, "null"]}
        id: {type: string}
        data: {type: object}
    Rows:
      type: object
      required: [rows]
      properties:
        rows: {type: array, items: {$ref: "#/components/schemas/StoredEvent"}}
    Lead:
      type: object
      required: [lead, stage, owner, score, profile, stages]
      properties:
        lead: {type: string}
        stage: {type: string, enum: [lead, mql, sal, sql, opportunity, customer, recycled, disqualified, lost]}
        owner: {type: [string, "null"]}
        score: {type: [number, "null"]}
        rulesVersion: {type: [string, "null"]}
        profile: {type: object}
        stages: {type: array, items: {type: object}}
        erased:
          type: object
          description: Only for a lead whose personal fields were erased (they read as "[erased]").
          required: [at, reason]
          properties:
            at: {type: string}
            reason: {type: string}
        account: {type: [string, "null"], description: "The account the lead belongs to (see /v1/accounts/{id})."}
        merged:
          type: object
          description: Only when the id asked for was merged away.
          required: [from, into, steps]
          properties:
            from: {type: string}
            into: {type: string}
            steps:
              type: array
              items:
                type: object
                required: [lead, into]
                properties:
                  lead: {type: string}
                  into: {type: string}
    ErasureResult:
      type: object
      required: [lead, position, actor, erased, alreadyErased, streams]
      properties:
        lead: {type: string, description: The lead erased (the one an id merged away ended in).}
        position: {type: integer, minimum: 1, description: Where lead.erased is in the log.}
        actor: {type: string}
        erased:
          type: object
          required: [at, reason]
          properties:
            at: {type: string, description: "RFC 3339, UTC"}
            reason: {type: string}
        alreadyErased: {type: boolean}
        streams: {type: integer, minimum: 1, description: How many streams' keys were destroyed.}
    Account:
      type: object
      required: [account, mostAdvancedStage, engagedLeads, engagementDays, asOf, score, opportunities, firmographics, leads]
      properties:
        account: {type: string}
        mostAdvancedStage: {$ref: "#/components/schemas/Stage"}
        engagedLeads: {type: integer, minimum: 0, description: Leads with a touch in the engagementDays up to asOf.}
        engagementDays: {type: integer}
        asOf: {type: string}
        score:
          description: >-
            null without published rules; else total = min(cap, leadScores) + fit + rules: the
            sum of its leads' scores capped (account_score_cap, default 200), the rules' fit
            rules on the account's firmographics, and its account rules' points.
          oneOf:
            - {type: "null"}
            - type: object
              required: [total, leadScores, cap, fit, rules, hits]
              properties:
                total: {type: number}
                leadScores: {type: number}
                cap: {type: number}
                fit: {type: number}
                rules: {type: number}
                hits:
                  type: array
                  items:
                    type: object
                    required: [rule, points]
                    properties:
                      rule: {type: string}
                      points: {type: number}
        opportunities:
          type: object
          required: [open, openAmount, won, wonAmount]
          properties:
            open: {type: integer, minimum: 0}
            openAmount: {type: number}
            won: {type: integer, minimum: 0}
            wonAmount: {type: number}
        firmographics: {type: object, description: The group traits, then its leads' company fields.}
        leads:
          type: array
          items:
            type: object
            required: [lead, stage, score, lastTouchAt, engaged, assignedBy]
            properties:
              lead: {type: string}
              stage: {$ref: "#/components/schemas/Stage"}
              score: {type: [number, "null"]}
              lastTouchAt: {type: [string, "null"]}
              engaged: {type: boolean}
              assignedBy: {type: string, enum: [event, domain]}
    Stage:
      type: string
      enum: [lead, mql, sal, sql, opportunity, customer, recycled, disqualified, lost]
    MergeResult:
      type: object
      required: [duplicate, into, actor, position]
      properties:
        duplicate: {type: string}
        into: {type: string}
        actor: {type: string}
        position: {type: integer, minimum: 1}
        alreadyMerged: {type: boolean}
    BackupManifest:
      type: object
      required: [format, version, created, source, position, hash, files, name, path, seconds]
      properties:
        format: {type: string, const: leadledger-backup}
        version: {type: integer}
        created: {type: string, description: "RFC 3339, UTC"}
        source: {type: string, description: The store's directory.}
        position: {type: integer, minimum: 0, description: The last position in the copy.}
        hash: {type: string, pattern: "^[0-9a-f]{64}$", description: The chain's hash at that position.}
        files:
          type: array
          items:
            type: object
            required: [name, bytes, sha256]
            properties:
              name: {type: string}
              bytes: {type: integer, minimum: 0}
              sha256: {type: string, pattern: "^[0-9a-f]{64}$"}
        name: {type: string}
        path: {type: string}
        seconds: {type: number, minimum: 0}
    AppendResult:
      type: object
      required: [appended, duplicates, rejected, results]
      properties:
        appended: {type: integer, minimum: 0}
        duplicates: {type: integer, minimum: 0}
        rejected: {type: integer, minimum: 0}
        results:
          type: array
          items:
            type: object
            required: [index, status]
            properties:
              index: {type: integer, minimum: 0}
              id: {type: string}
              status: {type: string, enum: [appended, duplicate, rejected]}
              position: {type: integer, minimum: 1}
              reason: {type: string}

"""#
}
