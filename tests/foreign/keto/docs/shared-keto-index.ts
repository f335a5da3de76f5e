import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Document implements Namespace {
  // All relationships for a single document.
  related: {
    editors: User[]
    viewers: User[]
  }

  // The permissions derived from the relationships and context.
  permits = {
    // A permission is a function that takes the context and returns a boolean. It can reference `this.related` and `this.permits`.
    write: (ctx: Context): boolean =>
      this.related.editors.includes(ctx.subject),
    read: (ctx: Context): boolean =>
      this.permits.write(ctx) || this.related.viewers.includes(ctx.subject),
  }
}
