"""HTML pages of the channel bot: the agent inbox, channels, products, orders."""

from django.urls import path

from . import views

app_name = "channels_bot"

urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("list/", views.InboxListFragment.as_view(), name="inbox_list"),
    path("conversations/<uuid:pk>/", views.InboxView.as_view(), name="conversation"),
    path("conversations/<uuid:pk>/parts/", views.ConversationFragment.as_view(), name="conversation_parts"),
    path("conversations/<uuid:pk>/reply/", views.ConversationReplyView.as_view(), name="conversation_reply"),
    path("conversations/<uuid:pk>/take-over/", views.TakeOverView.as_view(), name="conversation_take_over"),
    path("conversations/<uuid:pk>/give-back/", views.GiveBackView.as_view(), name="conversation_give_back"),
    path("conversations/<uuid:pk>/close/", views.CloseView.as_view(), name="conversation_close"),
    path("conversations/<uuid:pk>/archive/", views.ArchiveView.as_view(), name="conversation_archive"),
    path("channels/", views.ChannelListView.as_view(), name="channels"),
    path("channels/<uuid:pk>/", views.ChannelUpdateView.as_view(), name="channel_update"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/new/", views.ProductCreateView.as_view(), name="product_new"),
    path("products/import/", views.ProductImportView.as_view(), name="product_import"),
    path("products/<uuid:pk>/", views.ProductEditView.as_view(), name="product"),
    path("products/<uuid:pk>/delete/", views.ProductDeleteView.as_view(), name="product_delete"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/<uuid:pk>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<uuid:pk>/transition/", views.OrderTransitionView.as_view(), name="order_transition"),
]
