CREATE TABLE "sms_parts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"link_id" uuid NOT NULL,
	"source" text NOT NULL,
	"destination" text NOT NULL,
	"concat_kind" text NOT NULL,
	"concat_ref" integer NOT NULL,
	"concat_total" integer NOT NULL,
	"concat_seq" integer NOT NULL,
	"data_coding" integer NOT NULL,
	"payload" "bytea" NOT NULL,
	"payload_hash" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"assembled_message_id" bigint,
	"assembled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sms_submissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"link_id" uuid NOT NULL,
	"smsc_message_id" text NOT NULL,
	"message_id" bigint NOT NULL,
	"part" integer NOT NULL,
	"parts" integer NOT NULL,
	"status" text DEFAULT 'sent' NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sms_parts" ADD CONSTRAINT "sms_parts_link_id_channel_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."channel_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_submissions" ADD CONSTRAINT "sms_submissions_link_id_channel_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."channel_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_submissions" ADD CONSTRAINT "sms_submissions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sms_parts_part_uq" ON "sms_parts" USING btree ("link_id","source","destination","concat_kind","concat_ref","concat_total","concat_seq","payload_hash");--> statement-breakpoint
CREATE INDEX "sms_parts_waiting_idx" ON "sms_parts" USING btree ("link_id","received_at") WHERE assembled_message_id is null;--> statement-breakpoint
CREATE INDEX "sms_parts_assembled_idx" ON "sms_parts" USING btree ("link_id","assembled_at") WHERE assembled_message_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "sms_submissions_smsc_uq" ON "sms_submissions" USING btree ("link_id","smsc_message_id");--> statement-breakpoint
CREATE INDEX "sms_submissions_message_idx" ON "sms_submissions" USING btree ("message_id");