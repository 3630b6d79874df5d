ALTER TABLE "queues" ALTER COLUMN "callback_window_minutes" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "queues" ALTER COLUMN "callback_window_minutes" SET DEFAULT 60;--> statement-breakpoint
ALTER TABLE "queues" ALTER COLUMN "inactivity_minutes" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "queues" ALTER COLUMN "inactivity_minutes" SET DEFAULT 30;