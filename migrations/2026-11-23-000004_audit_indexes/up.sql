-- Audit filters that must stay fast on millions of events, newest first.
CREATE INDEX audit_events_action_newest ON audit_events (action, id DESC);
CREATE INDEX audit_events_actor_newest ON audit_events (actor_id, id DESC);
CREATE INDEX audit_events_resource_newest ON audit_events (resource_id, id DESC);
