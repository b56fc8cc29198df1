-- undo: add foreign key posts_author_id_fkey on public.posts
ALTER TABLE "public"."posts" DROP CONSTRAINT "posts_author_id_fkey";
-- undo: add foreign key comments_post_id_fkey on public.comments
ALTER TABLE "public"."comments" DROP CONSTRAINT "comments_post_id_fkey";
-- undo: add foreign key comments_author_id_fkey on public.comments
ALTER TABLE "public"."comments" DROP CONSTRAINT "comments_author_id_fkey";
-- undo: create table public.users
DROP TABLE "public"."users";
-- undo: create table public.posts
DROP TABLE "public"."posts";
-- undo: create table public.comments
DROP TABLE "public"."comments";
-- undo: create enum public.post_state
DROP TYPE "public"."post_state";
