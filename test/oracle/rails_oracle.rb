# frozen_string_literal: true

# The differential oracle: what dionysus-rb would publish for outbox rows, computed by real
# ActiveRecord 6.1 and ActiveSupport 6.1 (Debian's ruby-activerecord, ruby-activesupport, ruby-pg)
# from the same database rows the relay reads.
#
# Usage: ruby rails_oracle.rb SPEC.json  (prints one JSON line per message of the spec)
#
# The spec names the database, the models (table, declared attributes in order, relationships
# and how ActiveRecord associates them) and the outbox rows to publish. The models are real
# ActiveRecord classes over the tables; the serializer below follows the gem's model serializer
# (Dionysus::Producer::ModelSerializer#as_json): declared attributes read from the record, then
# "links" (`<name>_id` of a to-one, `<singular>_ids` of a to-many), then the included
# relationships serialized by the related model's serializer without includes of their own; the
# deleted-record serializer gives {"links":{},"id":id}; the envelope is `to_json` of
# {"message" => [{"event", "model_name", "data" => [record]}]}. Keys and partitions follow the
# gem's publisher: "<model_name>:<id>", partition_key.presence || attribute.to_i.to_s,
# crc32 % partitions (librdkafka's consistent_random, on the message key when there is none).

require "json"
require "zlib"
require "active_record"
require "active_support/all"

ActiveSupport::Deprecation.silenced = true
# A Rails application's defaults (the ActiveRecord railtie sets these).
ActiveRecord::Base.default_timezone = :utc
ActiveRecord::Base.time_zone_aware_attributes = true
Time.zone_default = Time.find_zone!("UTC")

spec = JSON.parse(File.read(ARGV.fetch(0)))
db = spec.fetch("database")
# The session settings of a server left at its defaults: the Rails application the gem ran in
# did not pin them, so the oracle's database may be configured otherwise on purpose.
ActiveRecord::Base.establish_connection(
  adapter: "postgresql", host: db.fetch("host"), port: db.fetch("port"), username: db.fetch("user"),
  password: db.fetch("password"), database: db.fetch("database"), schema_search_path: db.fetch("schema"),
  variables: { "datestyle" => "ISO, MDY", "extra_float_digits" => 1, "bytea_output" => "hex", "lc_monetary" => "C" }
)

module Oracle
  # The gem's ModelSerializer, for a model described by the spec.
  class ModelSerializer
    def initialize(record, description, include:)
      @record = record
      @description = description
      @include = include
    end

    def as_json
      payload = {}
      @description.fetch("attributes").each { |name| payload[name] = @record.public_send(name) }
      payload["links"] = {}
      relationships.each do |rel|
        payload["links"][rel.fetch("name")] = link(rel)
      end
      @include.each do |name|
        rel = relationships.find { |r| r.fetch("name") == name } or next
        related = @record.public_send(name)
        payload[name] =
          if rel.fetch("kind") == "has_one"
            Oracle.serialize(related).first
          else
            Oracle.serialize(related)
          end
      end
      payload
    end

    private

    def relationships
      @description.fetch("relationships")
    end

    # The gem calls `<name>_id` / `<singular>_ids`; a polymorphic link is the application's
    # override of `<name>_id` returning {"type" => .., "id" => ..} (nil when there is none).
    def link(rel)
      name = rel.fetch("name")
      case rel.fetch("link")
      when "foreign_key" then @record.public_send("#{name}_id")
      when "polymorphic"
        id = @record.public_send("#{name}_id")
        id.nil? ? nil : { "type" => @record.public_send("#{name}_type"), "id" => id }
      when "has_one" then @record.public_send(name)&.id
      when "ids" then @record.public_send("#{name.singularize}_ids")
      when "column" then @record.public_send(rel.fetch("column"))
      else raise "unknown link kind #{rel.fetch('link')}"
      end
    end
  end

  def self.descriptions
    @descriptions ||= {}
  end

  # Dionysus::Producer::Serializer.serialize(records, dependencies: []): nested records get no includes.
  def self.serialize(record_or_records, include: [])
    Array.wrap(record_or_records).compact.map do |record|
      if record.persisted?
        ModelSerializer.new(record, descriptions.fetch(record.class.name), include: include).as_json
      else
        { "links" => {} }.merge(record.class.primary_key => record.public_send(record.class.primary_key))
      end
    end
  end

  def self.define_model(name, description)
    klass = Class.new(ActiveRecord::Base)
    Object.const_set(name, klass)
    klass.table_name = description.fetch("table")
    description.fetch("relationships").each do |rel|
      association = rel.fetch("association")
      options = association.fetch("options", {}).transform_keys(&:to_sym)
      scope = association["order"] ? -> { order(association["order"]) } : nil
      case association.fetch("macro")
      when "belongs_to" then klass.belongs_to(rel.fetch("name").to_sym, scope, optional: true, **options)
      when "has_one" then klass.has_one(rel.fetch("name").to_sym, scope, **options)
      when "has_many" then klass.has_many(rel.fetch("name").to_sym, scope, **options)
      when "ids_column"
        # A to-many whose ids are an array column: the records in the array's order.
        target, column = association.fetch("class_name"), association.fetch("column")
        klass.define_method(rel.fetch("name")) do
          ids = public_send(column) || []
          by_id = target.constantize.where(id: ids).index_by(&:id)
          ids.map { |id| by_id[id] }.compact
        end
      else raise "unknown association #{association.fetch('macro')}"
      end
    end
    descriptions[name] = description
  end

  def self.partition_key(row, resource, attribute)
    present = row["partition_key"].presence
    return present if present
    resource.public_send(attribute).to_i.to_s if resource.respond_to?(attribute)
  end

  def self.message(row)
    klass = row.fetch("resource_class").constantize
    resource = klass.find_by(klass.primary_key => row.fetch("resource_id")) || klass.new(klass.primary_key => row.fetch("resource_id"))
    event = row.fetch("event")
    return { "skip" => true } if resource.new_record? && !event.end_with?("_destroyed")

    value = { "message" => [{ "event" => event, "model_name" => klass.model_name.to_s,
                              "data" => serialize(resource, include: row.fetch("include")) }] }.to_json
    key = "#{resource.model_name}:#{resource.id}"
    partition_key = partition_key(row, resource, row.fetch("partition_attribute"))
    partitions = row.fetch("partitions")
    partition = Zlib.crc32(partition_key.nil? || partition_key.empty? ? key : partition_key) % partitions
    { "topic" => row.fetch("topic"), "key" => key, "partition" => partition, "value" => value }
  rescue StandardError => e
    { "error" => "#{e.class}: #{e.message[0, 200]}" }
  end
end

spec.fetch("models").each { |name, description| Oracle.define_model(name, description) }
spec.fetch("rows").each do |row|
  puts JSON.generate(Oracle.message(row).merge("row" => row.fetch("id")))
end
