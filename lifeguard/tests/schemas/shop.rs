// Every part of the `table!` grammar: Diesel's syntax plus what migrations need.

lifeguard::table! {
    /// Customers.
    #[renamed_from = "clients"]
    #[unique(name = "customers_tenant_email_key", tenant_id, email)]
    #[check(name = "customers_name_len", "length(name) > 0")]
    #[index(on("lower(email)"), name = "customers_email_lower_idx")]
    shop.customers (id) {
        #[identity = "always"]
        id -> Int8,
        tenant_id -> Int4,
        /// Shown on invoices.
        #[max_length = 200]
        name -> Varchar,
        #[unique]
        email -> Text,
        #[default = "now()"]
        created_at -> Timestamptz,
        #[renamed_from = "notes"]
        remarks -> Nullable<Text>,
    }

    #[index(on(customer_id, placed_at), include(total))]
    #[index(on(tags), using = "gin")]
    #[index(on(placed_at), unique, where = "NOT cancelled", name = "orders_open_idx")]
    #[foreign_key((customer_id) references customers(id), on_delete = cascade, deferrable = initially_deferred, name = "orders_customer_fk")]
    shop.orders (id) {
        #[identity]
        id -> Int8,
        customer_id -> Int8,
        #[check = "total >= 0"]
        total -> Numeric,
        #[default = "0"]
        qty -> Int4,
        #[generated = "total * qty"]
        gross -> Numeric,
        tags -> Array<Text>,
        placed_at -> Timestamptz,
        cancelled -> Bool,
    }

    order_lines (order_id, line) {
        #[references(orders(id), on_delete = cascade, on_update = restrict)]
        order_id -> Int8,
        line -> Int4,
        #[references(order_lines(line))]
        parent_line -> Nullable<Int4>,
    }
}
