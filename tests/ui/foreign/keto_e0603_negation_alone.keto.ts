import { Namespace, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Document implements Namespace {
  related: {
    banned: User[]
  }

  permits = {
    view: (ctx: Context): boolean => !this.related.banned.includes(ctx.subject), //~ E0603
  }
}
